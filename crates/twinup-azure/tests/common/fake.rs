//! An in-memory fake of the Entra token endpoint, ARM and Graph, shaped after the contract's
//! examples, with switches for throttling, slow or expired operations, replication lag and
//! taken names. Every request is logged so tests can assert what went over the wire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

pub const ADT_APP_ID: &str = "0b07f429-9f4b-4714-9392-cc5e8e80c8b0";
pub const DATA_OWNER: &str = "bcd981a7-7f74-457b-83e1-cceb9e632ffe";

/// A running operation: InProgress answers left, resource key, failure (code, message).
pub type Operation = (u32, String, Option<(String, String)>);

/// The fake's world, shared with the test.
#[derive(Default)]
pub struct World {
    pub base: String,
    pub resources: HashMap<String, Value>,
    pub requests: Vec<(String, String)>,
    pub token_requests: usize,
    pub token_scopes: Vec<String>,
    /// Operation id -> (polls still InProgress, resource key, failure).
    pub ops: HashMap<String, Operation>,
    pub next_op: u32,
    /// How many InProgress answers each new operation gives.
    pub op_polls: u32,
    /// New operations end Failed with this code and message.
    pub op_failure: Option<(String, String)>,
    /// Operation URLs answer 404 (expired).
    pub ops_expired: bool,
    /// Answer the next N ARM requests with 429.
    pub throttle_next: u32,
    /// Answer the next N role assignment PUTs with PrincipalNotFound.
    pub principal_not_found: u32,
    pub taken_names: Vec<String>,
    pub actions: Vec<String>,
    pub users: HashMap<String, String>,
    pub apps: HashMap<String, Value>,
    pub sps: Vec<Value>,
    pub grants: Vec<Value>,
}

impl World {
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.requests
            .iter()
            .filter(|(m, p)| {
                m == method && p.to_lowercase().contains(&path_contains.to_lowercase())
            })
            .count()
    }
}

pub struct Fake {
    pub url: String,
    pub world: Arc<Mutex<World>>,
}

impl Fake {
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }
}

pub async fn start() -> Fake {
    let world = Arc::new(Mutex::new(World {
        op_polls: 1,
        actions: vec!["*".into()],
        sps: vec![json!({
            "id": "adt-sp-object-id",
            "appId": ADT_APP_ID,
            "oauth2PermissionScopes": [{"id": "4589bd03-58cb-4e6c-b17f-b580e39652f8", "value": "Read.Write"}]
        })],
        ..World::default()
    }));
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(world.clone());
    let url = super::serve(router).await;
    world.lock().unwrap().base = url.clone();
    Fake { url, world }
}

pub fn jwt(claims: &Value) -> String {
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc.encode(claims.to_string())
    )
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (decode(k) == key).then(|| decode(v))
    })
}

/// The quoted value of an OData `x eq 'value'` filter.
fn filter_value(uri: &Uri) -> Option<String> {
    let f = query(uri, "$filter")?;
    let start = f.find('\'')? + 1;
    let end = f.rfind('\'')?;
    Some(f[start..end].replace("''", "'"))
}

fn json_response(status: u16, body: Value, headers: &[(&str, String)]) -> Response {
    let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    for (k, v) in headers {
        r.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r.headers_mut()
        .insert("x-ms-request-id", "req-123".parse().unwrap());
    r
}

fn arm_error(status: u16, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": message}}),
        &[],
    )
}

fn graph_error(status: u16, code: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": code, "innerError": {"request-id": "g-1"}}}),
        &[],
    )
}

async fn handle(
    State(world): State<Arc<Mutex<World>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut w = world.lock().unwrap();
    let path = decode(uri.path());
    w.requests.push((method.to_string(), path.clone()));
    let body: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));

    if path.ends_with("/oauth2/v2.0/token") && method == Method::POST {
        w.token_requests += 1;
        let form = body.as_str().unwrap_or("").to_string();
        if !form.contains(&format!("client_secret={}", super::CLIENT_SECRET)) {
            return json_response(
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                &[],
            );
        }
        let scope = form
            .split('&')
            .find_map(|kv| kv.strip_prefix("scope="))
            .map(decode)
            .unwrap_or_default();
        w.token_scopes.push(scope);
        let token = jwt(
            &json!({"oid": "caller-oid", "tid": super::TENANT, "appid": "client-app", "idtyp": "app"}),
        );
        return json_response(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token}),
            &[],
        );
    }
    if !headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 20)
    {
        return arm_error(401, "InvalidAuthenticationToken", "no token");
    }
    if let Some(rest) = path.strip_prefix("/v1.0/") {
        return graph(&mut w, &method, rest, &uri, body);
    }
    if w.throttle_next > 0 {
        w.throttle_next -= 1;
        return json_response(
            429,
            json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "slow down"}}),
            &[
                ("retry-after-ms", "1".into()),
                ("retry-after", "1000".into()),
            ],
        );
    }
    if query(&uri, "api-version").is_none() {
        return arm_error(400, "MissingApiVersionParameter", "api-version is required");
    }
    arm(&mut w, &method, &path, &uri, body)
}

fn arm(w: &mut World, method: &Method, path: &str, uri: &Uri, body: Value) -> Response {
    let key = path.to_lowercase();
    if let Some(op) = key.strip_prefix("/ops/") {
        if w.ops_expired {
            return arm_error(404, "OperationNotFound", "expired");
        }
        let Some((left, res, fail)) = w.ops.get_mut(op) else {
            return arm_error(404, "OperationNotFound", "unknown");
        };
        if *left > 0 {
            *left -= 1;
            return json_response(
                200,
                json!({"status": "InProgress", "percentComplete": 50}),
                &[("retry-after", "0".into())],
            );
        }
        let (res, fail) = (res.clone(), fail.clone());
        let host = format!(
            "{}.api.wus2.digitaltwins.azure.net",
            res.rsplit('/').next().unwrap_or("x")
        );
        if let Some(r) = w.resources.get_mut(&res) {
            r["properties"]["provisioningState"] = json!(if fail.is_some() {
                "Failed"
            } else {
                "Succeeded"
            });
            r["properties"]["hostName"] = json!(host);
        }
        return match fail {
            Some((code, message)) => json_response(
                200,
                json!({"status": "Failed", "error": {"code": code, "message": message}}),
                &[],
            ),
            None => json_response(200, json!({"status": "Succeeded"}), &[]),
        };
    }
    if key.ends_with("/checknameavailability") && *method == Method::POST {
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let taken = w.taken_names.iter().any(|t| t.eq_ignore_ascii_case(&name));
        return json_response(
            200,
            if taken {
                json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("'{name}' already exists")})
            } else {
                json!({"nameAvailable": true, "reason": null, "message": null})
            },
            &[],
        );
    }
    if let Some(scope) = key.strip_suffix("/providers/microsoft.resources/tags/default")
        && *method == Method::PATCH
    {
        // The Tags API's Merge: only the given keys change.
        let Some(r) = w.resources.get_mut(scope) else {
            return arm_error(404, "ResourceNotFound", "no such scope");
        };
        let given = body
            .pointer("/properties/tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if !r.get("tags").is_some_and(Value::is_object) {
            r["tags"] = json!({});
        }
        if let Some(tags) = r["tags"].as_object_mut() {
            tags.extend(given);
        }
        let tags = r["tags"].clone();
        return json_response(
            200,
            json!({"name": "default", "properties": {"tags": tags}}),
            &[],
        );
    }
    if key.ends_with("/providers/microsoft.authorization/permissions") {
        let scope = key
            .trim_end_matches("/providers/microsoft.authorization/permissions")
            .to_string();
        if !scope.ends_with(&super::SUB.to_lowercase()) && !w.resources.contains_key(&scope) {
            return arm_error(404, "ResourceNotFound", "no such scope");
        }
        return json_response(
            200,
            json!({"value": [{"actions": w.actions, "notActions": []}]}),
            &[],
        );
    }
    if key.ends_with("/providers/microsoft.authorization/roledefinitions") {
        let wanted = filter_value(uri).unwrap_or_default();
        let list: Vec<Value> = if wanted.eq_ignore_ascii_case("Azure Digital Twins Data Owner") {
            vec![
                json!({"id": format!("/providers/Microsoft.Authorization/roleDefinitions/{DATA_OWNER}"), "name": DATA_OWNER,
                "properties": {"roleName": "Azure Digital Twins Data Owner"}}),
            ]
        } else {
            vec![]
        };
        return json_response(200, json!({"value": list}), &[]);
    }
    if key.ends_with("/providers/microsoft.authorization/roleassignments") {
        let principal = filter_value(uri).unwrap_or_default();
        let list: Vec<Value> = w
            .resources
            .values()
            .filter(|r| {
                r.pointer("/properties/principalId").and_then(Value::as_str)
                    == Some(principal.as_str())
            })
            .cloned()
            .collect();
        return json_response(200, json!({"value": list}), &[]);
    }
    if key.contains("/providers/microsoft.authorization/roleassignments/") && *method == Method::PUT
    {
        if w.principal_not_found > 0 {
            w.principal_not_found -= 1;
            return arm_error(
                400,
                "PrincipalNotFound",
                "Principal does not exist in the directory.",
            );
        }
        let scope = key
            .split("/providers/microsoft.authorization/roleassignments/")
            .next()
            .unwrap_or("")
            .to_string();
        let role = body
            .pointer("/properties/roleDefinitionId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        let principal = body
            .pointer("/properties/principalId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let duplicate = w.resources.iter().any(|(k, r)| {
            *k != key
                && r.pointer("/properties/principalId").and_then(Value::as_str)
                    == Some(principal.as_str())
                && r.pointer("/properties/roleDefinitionId")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
                    .is_some_and(|d| d.rsplit('/').next() == role.rsplit('/').next())
                && r.pointer("/properties/scope")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
                    .as_deref()
                    == Some(scope.as_str())
        });
        if duplicate {
            return arm_error(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists.",
            );
        }
        let mut stored = body.clone();
        stored["id"] = json!(path);
        stored["name"] = json!(path.rsplit('/').next());
        stored["properties"]["scope"] = json!(scope);
        let status = if w.resources.insert(key, stored.clone()).is_some() {
            200
        } else {
            201
        };
        return json_response(status, stored, &[]);
    }
    if key.contains("/providers/microsoft.digitaltwins/digitaltwinsinstances/")
        && *method == Method::PUT
    {
        let existed = w.resources.contains_key(&key);
        let mut stored = body.clone();
        stored["id"] = json!(path);
        stored["name"] = json!(path.rsplit('/').next());
        stored["location"] = json!(
            body.get("location")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase()
        );
        let access = body
            .pointer("/properties/publicNetworkAccess")
            .cloned()
            .unwrap_or(json!("Enabled"));
        stored["properties"] = json!({"provisioningState": if existed {"Updating"} else {"Provisioning"}, "hostName": null, "publicNetworkAccess": access});
        if body.pointer("/identity/type").and_then(Value::as_str) == Some("SystemAssigned") {
            stored["identity"]["principalId"] = json!("instance-identity-oid");
        }
        w.next_op += 1;
        let op = format!("op{}", w.next_op);
        let polls = w.op_polls;
        let failure = w.op_failure.clone();
        w.ops.insert(op.clone(), (polls, key.clone(), failure));
        w.resources.insert(key, stored.clone());
        let op_url = format!("{}/ops/{op}?api-version=2023-01-31", w.base);
        return json_response(
            if existed { 200 } else { 201 },
            stored,
            &[
                ("azure-asyncoperation", op_url.clone()),
                ("location", op_url),
                ("retry-after", "0".into()),
            ],
        );
    }
    match *method {
        Method::PUT => {
            let mut stored = body.clone();
            stored["id"] = json!(path);
            stored["name"] = json!(path.rsplit('/').next());
            let existed = w.resources.insert(key, stored.clone()).is_some();
            json_response(
                if existed { 200 } else { 201 },
                stored,
                &[(
                    "x-ms-ratelimit-remaining-subscription-writes",
                    "1199".into(),
                )],
            )
        }
        Method::GET => match w.resources.get(&key) {
            Some(r) => json_response(200, r.clone(), &[]),
            None if key.contains("/resourcegroups/") && key.matches('/').count() == 4 => {
                arm_error(404, "ResourceGroupNotFound", "Resource group not found.")
            }
            None => arm_error(404, "ResourceNotFound", "The resource was not found."),
        },
        Method::DELETE => {
            let existed = w.resources.remove(&key).is_some();
            json_response(if existed { 200 } else { 204 }, Value::Null, &[])
        }
        _ => arm_error(405, "MethodNotAllowed", "not supported by the fake"),
    }
}

fn unique_key(rest: &str) -> Option<String> {
    let inner = rest
        .strip_prefix("applications(uniqueName='")?
        .strip_suffix("')")?;
    Some(inner.replace("''", "'"))
}

fn graph(w: &mut World, method: &Method, rest: &str, uri: &Uri, body: Value) -> Response {
    if let Some(unique) = unique_key(rest) {
        return match *method {
            Method::PATCH => match w.apps.get_mut(&unique) {
                Some(app) => {
                    for (k, v) in body.as_object().unwrap() {
                        app[k] = v.clone();
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
                None => {
                    let mut app = body.clone();
                    app["id"] = json!(uuid::Uuid::new_v4().to_string());
                    app["appId"] = json!(uuid::Uuid::new_v4().to_string());
                    app["uniqueName"] = json!(unique);
                    w.apps.insert(unique, app.clone());
                    json_response(201, app, &[])
                }
            },
            Method::GET => match w.apps.get(&unique) {
                Some(app) => json_response(200, app.clone(), &[]),
                None => graph_error(404, "Request_ResourceNotFound"),
            },
            _ => graph_error(405, "Request_BadRequest"),
        };
    }
    if let Some(id) = rest.strip_prefix("users/") {
        return match w
            .users
            .iter()
            .find(|(upn, oid)| upn.eq_ignore_ascii_case(id) || oid.as_str() == id)
        {
            Some((upn, oid)) => {
                json_response(200, json!({"id": oid, "userPrincipalName": upn}), &[])
            }
            None => graph_error(404, "Request_ResourceNotFound"),
        };
    }
    if let Some(id) = rest.strip_prefix("servicePrincipals/") {
        return match w.sps.iter().find(|s| s["id"] == id) {
            Some(sp) => json_response(200, sp.clone(), &[]),
            None => graph_error(404, "Request_ResourceNotFound"),
        };
    }
    if rest.starts_with("groups/") {
        return graph_error(404, "Request_ResourceNotFound");
    }
    if rest == "servicePrincipals" {
        return match *method {
            Method::GET => {
                let app = filter_value(uri).unwrap_or_default();
                let list: Vec<Value> = w
                    .sps
                    .iter()
                    .filter(|s| s["appId"] == app.as_str())
                    .cloned()
                    .collect();
                json_response(200, json!({"value": list}), &[])
            }
            Method::POST => {
                let app = body["appId"].as_str().unwrap_or("").to_string();
                if w.sps.iter().any(|s| s["appId"] == app.as_str()) {
                    return graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
                }
                let sp = json!({"id": uuid::Uuid::new_v4().to_string(), "appId": app});
                w.sps.push(sp.clone());
                json_response(201, sp, &[])
            }
            _ => graph_error(405, "Request_BadRequest"),
        };
    }
    if rest == "oauth2PermissionGrants" {
        return match *method {
            Method::GET => {
                let client = filter_value(uri).unwrap_or_default();
                let list: Vec<Value> = w
                    .grants
                    .iter()
                    .filter(|g| g["clientId"] == client.as_str())
                    .cloned()
                    .collect();
                json_response(200, json!({"value": list}), &[])
            }
            Method::POST => {
                let mut g = body.clone();
                g["id"] = json!(format!("grant{}", w.grants.len() + 1));
                w.grants.push(g.clone());
                json_response(201, g, &[])
            }
            _ => graph_error(405, "Request_BadRequest"),
        };
    }
    if let Some(id) = rest.strip_prefix("oauth2PermissionGrants/") {
        if let Some(g) = w.grants.iter_mut().find(|g| g["id"] == id) {
            g["scope"] = body["scope"].clone();
            return StatusCode::NO_CONTENT.into_response();
        }
        return graph_error(404, "Request_ResourceNotFound");
    }
    graph_error(404, "Request_ResourceNotFound")
}
