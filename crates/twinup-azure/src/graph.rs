//! Microsoft Graph v1.0 client: applications (upsert by `uniqueName`), service principals,
//! users and directory objects, `/me`, and delegated permission grants (admin consent).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use url::Url;

use crate::cloud::{Endpoints, join};
use crate::credential::TokenProvider;
use crate::errors::{AzureError, GraphError, Result};
use crate::http::{Body, HttpClient, Request, loggable_url};

/// A decoded Graph response.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// JSON body (`Null` when empty, e.g. 204).
    pub body: Value,
}

/// ARM's `principalType` of a directory object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// A user.
    User,
    /// A service principal (app or managed identity).
    ServicePrincipal,
    /// A security group.
    Group,
}

impl PrincipalType {
    /// The value ARM expects in `principalType`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::ServicePrincipal => "ServicePrincipal",
            PrincipalType::Group => "Group",
        }
    }
}

/// A directory object's id and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryObject {
    /// Object id.
    pub id: String,
    /// Its type, as ARM names it.
    pub principal_type: PrincipalType,
}

/// The ids of an application registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Object id (`id`), used in `/applications/{id}`.
    pub object_id: String,
    /// Client id (`appId`).
    pub app_id: String,
    /// The whole object as returned.
    pub body: Value,
}

impl Application {
    fn from_body(body: Value) -> Result<Self> {
        let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        match (field("id"), field("appId")) {
            (Some(object_id), Some(app_id)) => Ok(Application {
                object_id,
                app_id,
                body,
            }),
            _ => Err(AzureError::Decode {
                what: "Microsoft Graph application".into(),
                message: "the object has no id or appId".into(),
            }),
        }
    }
}

/// How often, and how far apart, reads are retried while a new directory object replicates.
const REPLICATION_ATTEMPTS: u32 = 6;
const REPLICATION_DELAY: Duration = Duration::from_millis(500);

/// How long a write that Graph refuses because an object it references has not replicated yet
/// is retried, and the first and longest waits between tries (doubling).
const LAG_WAIT: Duration = Duration::from_secs(120);
const LAG_FIRST_RETRY: Duration = Duration::from_secs(1);
const LAG_LONGEST_RETRY: Duration = Duration::from_secs(15);

/// Waits before read `attempt` + 1 of an object just written that cannot be read back yet,
/// saying so as a retry of the step.
async fn wait_to_read_again(attempt: u32, what: &str) {
    let wait = REPLICATION_DELAY * attempt;
    twinup_engine::report_retry(
        attempt + 1,
        REPLICATION_ATTEMPTS,
        &format!("{what} cannot be read back yet (directory replication)"),
        wait,
    );
    tokio::time::sleep(wait).await;
}

/// True for Graph's answers while an object just created is not visible to a write yet: a
/// service principal for an application just made (400, "...does not reference a valid
/// application object"), a grant for a service principal just made (400/404 naming it).
fn is_replication_lag(status: u16, body: &Value, referenced: &str) -> bool {
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(status, 400 | 404)
        && (message.contains("does not reference a valid application object")
            || (!referenced.is_empty() && message.contains(&referenced.to_ascii_lowercase())))
}

/// Microsoft Graph client.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: HttpClient,
    base: Url,
    scope: String,
    tokens: Arc<dyn TokenProvider>,
}

/// Quotes a string for an OData literal: `'` becomes `''`.
pub fn odata_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (spaces become `%20`).
fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GraphClient {
    /// A client for `{endpoints.graph}/v1.0/` using `endpoints.graph_scope` tokens.
    pub fn new(
        http: HttpClient,
        endpoints: &Endpoints,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self> {
        Ok(GraphClient {
            http,
            base: join(&endpoints.graph, "v1.0/", "--graph-endpoint")?,
            scope: endpoints.graph_scope.clone(),
            tokens,
        })
    }

    fn url(&self, path: &str, filter: Option<&str>) -> Result<Url> {
        let mut url = join(&self.base, path, "Graph path")?;
        if let Some(filter) = filter {
            url.set_query(Some(&format!("$filter={}", encode_component(filter))));
        }
        Ok(url)
    }

    /// Sends a request and returns the response whatever its status.
    pub async fn send_raw(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        headers: Vec<(&'static str, String)>,
    ) -> Result<GraphResponse> {
        let token = self.tokens.token(&self.scope).await?;
        let mut request = Request::new(method, url);
        request.bearer = Some(token.token);
        request.headers = headers;
        if let Some(body) = body {
            request.body = Body::Json(body.clone());
        }
        let response = self.http.send(&request).await?;
        Ok(GraphResponse {
            status: response.status,
            body: response.json(),
            headers: response.headers,
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        filter: Option<&str>,
        body: Option<&Value>,
    ) -> Result<GraphResponse> {
        let url = self.url(path, filter)?;
        let response = self
            .send_raw(method.clone(), url.clone(), body, Vec::new())
            .await?;
        check(response, &method, &url)
    }

    async fn get_optional(&self, path: &str) -> Result<Option<Value>> {
        match self.call(Method::GET, path, None, None).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, collection: &str, filter: &str) -> Result<Vec<Value>> {
        let r = self
            .call(Method::GET, collection, Some(filter), None)
            .await?;
        Ok(r.body
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Creates or updates the application with this `uniqueName` (`Prefer: create-if-missing`).
    /// `body` must contain `displayName`.
    pub async fn upsert_application(&self, unique_name: &str, body: &Value) -> Result<Application> {
        let path = format!("applications(uniqueName={})", odata_quote(unique_name));
        let url = self.url(&path, None)?;
        let response = self
            .send_raw(
                Method::PATCH,
                url.clone(),
                Some(body),
                vec![("Prefer", "create-if-missing".to_string())],
            )
            .await?;
        let response = check(response, &Method::PATCH, &url)?;
        if response.status == 201 && response.body.get("appId").is_some() {
            return Application::from_body(response.body);
        }
        // 204: updated, no body. Read it back (a new object may take a moment to replicate).
        for attempt in 1..=REPLICATION_ATTEMPTS {
            if let Some(app) = self.get_application_by_unique_name(unique_name).await? {
                return Ok(app);
            }
            if attempt < REPLICATION_ATTEMPTS {
                wait_to_read_again(attempt, "the application").await;
            }
        }
        Err(AzureError::Rule(format!(
            "application '{unique_name}' was saved but cannot be read back yet (directory replication); run twinup again in a minute"
        )))
    }

    /// The application with this `uniqueName`, if any.
    pub async fn get_application_by_unique_name(
        &self,
        unique_name: &str,
    ) -> Result<Option<Application>> {
        let path = format!("applications(uniqueName={})", odata_quote(unique_name));
        match self.get_optional(&path).await? {
            Some(body) => Application::from_body(body).map(Some),
            None => Ok(None),
        }
    }

    /// Applications matching an OData filter, e.g. `displayName eq 'x'`.
    pub async fn find_applications(&self, filter: &str) -> Result<Vec<Value>> {
        self.list("applications", filter).await
    }

    /// Updates an application by object id.
    pub async fn patch_application(&self, object_id: &str, body: &Value) -> Result<()> {
        self.call(
            Method::PATCH,
            &format!("applications/{object_id}"),
            None,
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// Deletes an application by object id (404 counts as done).
    pub async fn delete_application(&self, object_id: &str) -> Result<()> {
        match self
            .call(
                Method::DELETE,
                &format!("applications/{object_id}"),
                None,
                None,
            )
            .await
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    /// The object ids of the owners of the application `object_id` (Graph v1.0 "List owners"
    /// of application).
    pub async fn list_application_owners(&self, object_id: &str) -> Result<Vec<String>> {
        let path = format!("applications/{}/owners", encode_component(object_id));
        let r = self.call(Method::GET, &path, None, None).await?;
        Ok(r.body
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// Adds the directory object `owner_id` as an owner of the application `object_id`
    /// (Graph v1.0 "Add owner": `POST /applications/{id}/owners/$ref`, 204).
    pub async fn add_application_owner(&self, object_id: &str, owner_id: &str) -> Result<()> {
        let path = format!("applications/{}/owners/$ref", encode_component(object_id));
        let reference = format!(
            "{}/directoryObjects/{}",
            self.base.as_str().trim_end_matches('/'),
            encode_component(owner_id)
        );
        let body = json!({ "@odata.id": reference });
        self.call(Method::POST, &path, None, Some(&body))
            .await
            .map(|_| ())
    }

    /// The service principal of `app_id`, if any.
    pub async fn find_service_principal(&self, app_id: &str) -> Result<Option<Value>> {
        let filter = format!("appId eq {}", odata_quote(app_id));
        Ok(self
            .list("servicePrincipals", &filter)
            .await?
            .into_iter()
            .next())
    }

    /// Creates the service principal of `app_id`, or returns the existing one (409 = exists).
    pub async fn ensure_service_principal(&self, app_id: &str) -> Result<Value> {
        if let Some(sp) = self.find_service_principal(app_id).await? {
            return Ok(sp);
        }
        let url = self.url("servicePrincipals", None)?;
        let body = json!({ "appId": app_id });
        let response = self.post_through_lag(&url, &body, app_id).await?;
        if response.status != 409 {
            return check(response, &Method::POST, &url).map(|r| r.body);
        }
        for attempt in 1..=REPLICATION_ATTEMPTS {
            if let Some(sp) = self.find_service_principal(app_id).await? {
                return Ok(sp);
            }
            if attempt < REPLICATION_ATTEMPTS {
                wait_to_read_again(attempt, "the service principal").await;
            }
        }
        Err(AzureError::Rule(format!(
            "a service principal for app {app_id} exists but cannot be read yet (directory replication); run twinup again in a minute"
        )))
    }

    /// A user by object id or user principal name.
    pub async fn get_user(&self, id_or_upn: &str) -> Result<Option<DirectoryObject>> {
        let path = format!("users/{}", encode_component(id_or_upn));
        Ok(self
            .get_optional(&path)
            .await?
            .and_then(|b| object(&b, PrincipalType::User)))
    }

    /// The type of the directory object with this id: user, service principal or group.
    pub async fn principal_type_of(&self, object_id: &str) -> Result<Option<DirectoryObject>> {
        let id = encode_component(object_id);
        for (collection, kind) in [
            ("users", PrincipalType::User),
            ("servicePrincipals", PrincipalType::ServicePrincipal),
            ("groups", PrincipalType::Group),
        ] {
            if let Some(body) = self.get_optional(&format!("{collection}/{id}")).await? {
                return Ok(object(&body, kind));
            }
        }
        Ok(None)
    }

    /// The signed-in user (`/me`); fails for app-only tokens.
    pub async fn me(&self) -> Result<Value> {
        self.call(Method::GET, "me", None, None)
            .await
            .map(|r| r.body)
    }

    /// The delegated grant from `client_sp_id` to `resource_sp_id` for all users, if any.
    pub async fn find_grant(
        &self,
        client_sp_id: &str,
        resource_sp_id: &str,
    ) -> Result<Option<Value>> {
        let filter = format!("clientId eq {}", odata_quote(client_sp_id));
        Ok(self
            .list("oauth2PermissionGrants", &filter)
            .await?
            .into_iter()
            .find(|g| {
                g.get("resourceId").and_then(Value::as_str) == Some(resource_sp_id)
                    && g.get("consentType").and_then(Value::as_str) == Some("AllPrincipals")
            }))
    }

    /// Replaces the scopes of an existing grant.
    pub async fn patch_grant(&self, grant_id: &str, scope: &str) -> Result<()> {
        let body = json!({ "scope": scope });
        self.call(
            Method::PATCH,
            &format!("oauth2PermissionGrants/{grant_id}"),
            None,
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// Grants `scope` (space-separated scope values) of `resource_sp_id` to `client_sp_id` for
    /// all users (admin consent).
    pub async fn create_grant(
        &self,
        client_sp_id: &str,
        resource_sp_id: &str,
        scope: &str,
    ) -> Result<Value> {
        let body = json!({
            "clientId": client_sp_id,
            "consentType": "AllPrincipals",
            "resourceId": resource_sp_id,
            "scope": scope,
        });
        let url = self.url("oauth2PermissionGrants", None)?;
        let response = self.post_through_lag(&url, &body, client_sp_id).await?;
        check(response, &Method::POST, &url).map(|r| r.body)
    }

    /// POSTs `body`, sending it again (with backoff, for at most two minutes) while Graph
    /// answers that an object it references (`referenced`, just created) does not exist yet.
    async fn post_through_lag(
        &self,
        url: &Url,
        body: &Value,
        referenced: &str,
    ) -> Result<GraphResponse> {
        let started = std::time::Instant::now();
        let mut wait = LAG_FIRST_RETRY;
        let mut attempt = 1;
        loop {
            let response = self
                .send_raw(Method::POST, url.clone(), Some(body), Vec::new())
                .await?;
            let waited = started.elapsed();
            if !is_replication_lag(response.status, &response.body, referenced)
                || waited >= LAG_WAIT
            {
                return Ok(response);
            }
            let pause = wait.min(LAG_WAIT - waited);
            tracing::info!(
                "Microsoft Graph does not see {referenced} yet (directory replication); retrying in {}s",
                pause.as_secs()
            );
            attempt += 1;
            twinup_engine::report_retry(
                attempt,
                crate::http::retry::attempts_within(LAG_WAIT, LAG_FIRST_RETRY, LAG_LONGEST_RETRY),
                &format!(
                    "HTTP {}: Microsoft Graph does not see {referenced} yet (directory replication)",
                    response.status
                ),
                pause,
            );
            tokio::time::sleep(pause).await;
            wait = (wait * 2).min(LAG_LONGEST_RETRY);
        }
    }
}

fn object(body: &Value, kind: PrincipalType) -> Option<DirectoryObject> {
    let id = body.get("id").and_then(Value::as_str)?;
    Some(DirectoryObject {
        id: id.to_string(),
        principal_type: kind,
    })
}

/// Turns 4xx/5xx Graph answers into [`AzureError::Graph`].
pub fn check(response: GraphResponse, method: &Method, url: &Url) -> Result<GraphResponse> {
    if response.status < 400 {
        return Ok(response);
    }
    let error = response.body.get("error").unwrap_or(&Value::Null);
    let text = |k: &str| {
        error
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let request_id = response
        .headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            error
                .get("innerError")
                .and_then(|i| i.get("request-id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    Err(AzureError::Graph(Box::new(GraphError {
        status: response.status,
        code: text("code"),
        message: text("message"),
        request_id,
        method: method.to_string(),
        path: loggable_url(url),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_escape_quotes() {
        assert_eq!(odata_quote("o'brien"), "'o''brien'");
    }

    #[test]
    fn filter_is_percent_encoded_with_percent20() {
        assert_eq!(
            encode_component("appId eq 'a b'"),
            "appId%20eq%20%27a%20b%27"
        );
        assert_eq!(encode_component("ann@contoso.com"), "ann%40contoso.com");
    }
}
