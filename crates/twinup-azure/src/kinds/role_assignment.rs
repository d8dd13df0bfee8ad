//! `azure.role_assignment`: grants a role (by name or GUID) to a principal (by UPN or object id)
//! on a scope. The assignment name is a UUIDv5 of deployment, scope, role and principal, so
//! reruns are idempotent and two deployments never share one; 409 `RoleAssignmentExists` (the
//! role is already assigned under another name, by someone else) counts as success but is
//! recorded as found (`created: false`), so `down` keeps it; `PrincipalNotFound` (directory
//! replication lag) is retried for a bounded time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, Replacement, StepContext, StepError,
    StepKind,
};
use uuid::Uuid;

use super::fields::{self, Checker};
use super::{AzureContext, interruptible, normalize_scope, targets};
use crate::errors::AzureError;
use crate::graph::{DirectoryObject, PrincipalType};
use crate::permissions;

/// API version of Microsoft.Authorization.
pub const API_VERSION: &str = "2022-04-01";
const ACTION: &str = "Microsoft.Authorization/roleAssignments/write";
/// The longest wait between the tries of an assignment whose principal has not replicated.
const PRINCIPAL_LONGEST_RETRY: Duration = Duration::from_secs(30);

/// The `azure.role_assignment` kind.
pub struct RoleAssignmentKind {
    ctx: Arc<AzureContext>,
    /// Permission lists already read in this run, by scope: a fleet of role assignments on one
    /// subscription asks ARM once, not once per step.
    permissions: tokio::sync::Mutex<std::collections::HashMap<String, Value>>,
    /// Role definition GUIDs found by name in this run, by (subscription, lower-case name):
    /// role names are unique in a tenant, so one lookup serves every scope of a subscription.
    roles: std::sync::Mutex<std::collections::HashMap<(String, String), String>>,
    /// Principals found in the directory in this run, by (lower-case principal, given type):
    /// a fleet assigning roles to one assignee asks Graph once, not once per step.
    principals: std::sync::Mutex<std::collections::HashMap<String, DirectoryObject>>,
}

/// The deterministic assignment name for (deployment, scope, role GUID, principal object id).
/// A checkpoint from before deployment ids (`deployment: None`) derives it without, as then.
pub fn assignment_name(
    deployment: Option<&str>,
    scope: &str,
    role_guid: &str,
    principal_id: &str,
) -> String {
    let mut key = format!(
        "twinup:role-assignment:{}|{}|{}",
        normalize_scope(scope).to_ascii_lowercase(),
        role_guid.to_ascii_lowercase(),
        principal_id.to_ascii_lowercase()
    );
    if let Some(id) = deployment {
        key.push_str(&format!("|deployment:{id}"));
    }
    Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// The subscription id of a scope (`/subscriptions/{id}/...`), if it has one.
pub fn subscription_of(scope: &str) -> Option<&str> {
    let mut parts = scope.trim_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") => Some(id),
        _ => None,
    }
}

/// The scope and its ancestors up to the subscription, nearest first.
pub fn scope_chain(scope: &str) -> Vec<String> {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    let mut out = Vec::new();
    let mut len = parts.len();
    while len >= 2 {
        out.push(format!("/{}", parts[..len].join("/")));
        // Resource ids go .../providers/{ns}/{type}/{name}; step back to the enclosing group.
        if let Some(p) = parts[..len]
            .iter()
            .rposition(|p| p.eq_ignore_ascii_case("providers"))
        {
            len = p;
        } else {
            len -= 2;
        }
    }
    out
}

pub use crate::permissions::{action_matches, permits};

/// A Graph 403 while typing a principal says which permission is missing and how to do
/// without it; other errors pass through.
fn directory_error(error: AzureError, principal: &str) -> StepError {
    if !error.is_forbidden() {
        return error.into();
    }
    let (permission, kind) = if principal.contains('@') {
        ("User.Read.All", "user")
    } else {
        (
            "User.Read.All (Directory.Read.All for groups)",
            "user, group or service principal",
        )
    };
    let answer = match error.graph() {
        Some(e) => format!(
            "Microsoft Graph {} {} answered {} {}: {}",
            e.method, e.path, e.status, e.code, e.message
        ),
        None => error.to_string(),
    };
    StepError::rejected(format!(
        "the signed-in principal may not read the directory to find out whether '{principal}' is a {kind} ({answer})"
    ))
    .with_code("Authorization_RequestDenied")
    .with_help(format!(
        "give the principal's object id with its type (`role_assignee_type: User`, `Group` or `ServicePrincipal`; `principal_type` in a plan) so no directory read is needed, or grant the signed-in principal the Microsoft Graph application permission {permission}"
    ))
}

fn looks_like_guid(s: &str) -> bool {
    Uuid::parse_str(s).is_ok()
}

fn parse_type(raw: &str) -> Option<PrincipalType> {
    match raw.to_ascii_lowercase().as_str() {
        "user" => Some(PrincipalType::User),
        "serviceprincipal" => Some(PrincipalType::ServicePrincipal),
        "group" => Some(PrincipalType::Group),
        _ => None,
    }
}

struct Resolved {
    scope: String,
    role_guid: String,
    role_definition_id: String,
    principal: DirectoryObject,
    name: String,
}

impl Resolved {
    fn path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{}",
            self.scope, self.name
        )
    }
}

impl RoleAssignmentKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        RoleAssignmentKind {
            ctx,
            permissions: Default::default(),
            roles: Default::default(),
            principals: Default::default(),
        }
    }

    async fn resolve_role(&self, scope: &str, role: &str) -> Result<(String, String), StepError> {
        let qualify = |guid: &str| match subscription_of(scope) {
            Some(sub) => format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            ),
            None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        };
        if looks_like_guid(role) {
            return Ok((role.to_ascii_lowercase(), qualify(role)));
        }
        let key = (
            subscription_of(scope)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            role.to_ascii_lowercase(),
        );
        if let Some(guid) = self.roles.lock().ok().and_then(|r| r.get(&key).cloned()) {
            return Ok((guid.clone(), qualify(&guid)));
        }
        let filter = format!("roleName eq '{}'", role.replace('\'', "''"));
        let path = format!("{scope}/providers/Microsoft.Authorization/roleDefinitions");
        let found = self
            .ctx
            .arm()
            .request(
                reqwest::Method::GET,
                &path,
                API_VERSION,
                &[("$filter", &filter)],
                None,
            )
            .await?;
        let definition = found
            .body
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| {
                v.iter().find(|d| {
                    d.pointer("/properties/roleName")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(role))
                })
            })
            .ok_or_else(|| {
                StepError::rejected(format!("role '{role}' was not found at {scope}"))
                    .with_help("check the spelling (e.g. 'Azure Digital Twins Data Owner') or give the role definition GUID")
            })?;
        let guid = definition
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| StepError::failed(format!("role definition of '{role}' has no name")))?;
        if let Ok(mut roles) = self.roles.lock() {
            roles.insert(key, guid.to_ascii_lowercase());
        }
        Ok((guid.to_ascii_lowercase(), qualify(guid)))
    }

    async fn resolve_principal(&self, with: &Value) -> Result<DirectoryObject, StepError> {
        let principal = fields::string(with, "principal")?;
        let given_type = fields::opt_string(with, "principal_type").and_then(|t| parse_type(&t));
        if looks_like_guid(&principal)
            && let Some(principal_type) = given_type
        {
            return Ok(DirectoryObject {
                id: principal.to_ascii_lowercase(),
                principal_type,
            });
        }
        // The signed-in principal's type is in its token: no directory read, which a
        // least-privilege CI principal (no Graph User.Read.All) could not make.
        if let Some(me) = &self.ctx.signed_in
            && me.id.eq_ignore_ascii_case(&principal)
        {
            return Ok(DirectoryObject {
                id: me.id.to_ascii_lowercase(),
                principal_type: me.principal_type,
            });
        }
        let key = principal.to_ascii_lowercase();
        if let Some(known) = self
            .principals
            .lock()
            .ok()
            .and_then(|p| p.get(&key).cloned())
        {
            return Ok(known);
        }
        let graph = self.ctx.graph()?;
        let found = if principal.contains('@') {
            graph.get_user(&principal).await
        } else {
            graph.principal_type_of(&principal).await
        };
        let found = found.map_err(|e| directory_error(e, &principal))?;
        let found = found.ok_or_else(|| {
            StepError::rejected(format!("principal '{principal}' was not found in the directory"))
                .with_help("give a user principal name or an object id; for a just-created service principal also set `principal_type: ServicePrincipal`")
        })?;
        if let Ok(mut principals) = self.principals.lock() {
            principals.insert(key, found.clone());
        }
        Ok(found)
    }

    async fn resolve(&self, ctx: &StepContext, with: &Value) -> Result<Resolved, StepError> {
        let scope = normalize_scope(&fields::string(with, "scope")?);
        let role = fields::string(with, "role")?;
        let (role_guid, role_definition_id) = self.resolve_role(&scope, &role).await?;
        let principal = self.resolve_principal(with).await?;
        let name = assignment_name(ctx.deployment_id(), &scope, &role_guid, &principal.id);
        Ok(Resolved {
            scope,
            role_guid,
            role_definition_id,
            principal,
            name,
        })
    }

    /// Finds the existing assignment of the same role to the same principal at this scope.
    async fn find_existing(&self, r: &Resolved) -> Result<Option<Value>, StepError> {
        let path = format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            r.scope
        );
        let filter = format!("principalId eq '{}'", r.principal.id);
        let list = self
            .ctx
            .arm()
            .request(
                reqwest::Method::GET,
                &path,
                API_VERSION,
                &[("$filter", &filter)],
                None,
            )
            .await?;
        Ok(list
            .body
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| {
                v.iter()
                    .find(|a| {
                        let role_ok = a
                            .pointer("/properties/roleDefinitionId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| id.to_ascii_lowercase().ends_with(&r.role_guid));
                        let scope_ok = a
                            .pointer("/properties/scope")
                            .and_then(Value::as_str)
                            .is_none_or(|s| normalize_scope(s).eq_ignore_ascii_case(&r.scope));
                        role_ok && scope_ok
                    })
                    .cloned()
            }))
    }

    /// Reads the assignment by the id the step saved, when the read goes to the record
    /// (`verify`, the refresh, unchanged inputs: one GET instead of resolving role and
    /// principal first). `None` when there is no such id.
    async fn read_saved(
        &self,
        ctx: &StepContext,
        with: &Value,
    ) -> Result<Option<LiveState>, StepError> {
        if !ctx.read_at_record() {
            return Ok(None);
        }
        let Some(id) = ctx
            .previous_outputs()
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .filter(|id| id.contains("/providers/Microsoft.Authorization/roleAssignments/"))
            .map(normalize_scope)
        else {
            return Ok(None);
        };
        let scope = normalize_scope(&fields::string(with, "scope")?);
        let Some(live) = self.ctx.arm().get_optional(&id, API_VERSION).await? else {
            return Ok(Some(LiveState::Absent));
        };
        let text = |p: &str| live.body.pointer(p).and_then(Value::as_str);
        // The recorded assignment, wherever the plan points now.
        let live_scope = text("/properties/scope")
            .map(normalize_scope)
            .unwrap_or(scope);
        Ok(Some(LiveState::Present {
            properties: json!({
                "scope": live_scope,
                "role_definition_id": text("/properties/roleDefinitionId"),
                "principal_id": text("/properties/principalId"),
                "principal_type": text("/properties/principalType"),
            }),
        }))
    }

    /// The live assignment as `read` reports it, before the plan's choices are applied.
    async fn read_live(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        if let Some(live) = self.read_saved(ctx, with).await? {
            return Ok(live);
        }
        let r = self.resolve(ctx, with).await?;
        Ok(
            match self.ctx.arm().get_optional(&r.path(), API_VERSION).await? {
                None => LiveState::Absent,
                Some(live) => LiveState::Present {
                    properties: json!({
                        "scope": r.scope,
                        "role_definition_id": live.body.pointer("/properties/roleDefinitionId"),
                        "principal_id": r.principal.id,
                        "principal_type": r.principal.principal_type.as_str(),
                    }),
                },
            },
        )
    }

    /// May the signed-in principal create role assignments where `with` makes one?
    async fn check_permission(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        let given = fields::opt_string(with, "scope").unwrap_or_default();
        let planned_by = with
            .get("scope")
            .and_then(twinup_engine::unknown_source)
            .and_then(targets::referenced_id_step);
        let scope = if !given.is_empty() {
            normalize_scope(&given)
        } else if let Some(planned) = match planned_by {
            // An earlier step's resource (the instance): check at the nearest scope of it that
            // exists, its resource group when that exists.
            Some(step) => self.ctx.targets.wait_for(step).await,
            None => None,
        } {
            normalize_scope(&planned)
        } else {
            match &self.ctx.subscription_id {
                Some(sub) => format!("/subscriptions/{sub}"),
                None => return Ok(()),
            }
        };
        let arm = self.ctx.arm();
        // Held across the read, so steps checking the same scope at once wait for one answer.
        let mut known = self.permissions.lock().await;
        for candidate in scope_chain(&scope) {
            let answer = match known.get(&candidate) {
                Some(body) => Ok(body.clone()),
                None => permissions::list(&arm, &candidate).await.inspect(|body| {
                    known.insert(candidate.clone(), body.clone());
                }),
            };
            match answer {
                Ok(body) => {
                    if permits(&body, ACTION) {
                        return Ok(());
                    }
                    return Err(StepError::rejected(format!(
                        "the signed-in principal ({}) cannot create role assignments on {candidate}",
                        self.ctx.token_provider.name()
                    ))
                    .with_code("AuthorizationFailed")
                    .with_help("it needs Owner or User Access Administrator on that scope (or a parent); ask an administrator to grant it"));
                }
                // The scope does not exist yet (created by an earlier step): check its parent.
                Err(e) if e.is_not_found() => continue,
                // The check itself is not allowed: the assignment's PUT is the real test.
                Err(e) if e.is_forbidden() => {
                    ctx.progress(format!(
                        "warning: cannot read your permissions on {candidate} ({e}); the role assignment itself will tell"
                    ));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The outputs, with what the assignment was made for (`scope`, and `role` and
    /// `principal` as the plan gave them) recorded for replacement.
    fn outputs(r: &Resolved, with: &Value, body: &Value) -> Outputs {
        let id = body
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| r.path());
        fields::outputs(json!({
            "id": id,
            "principal_id": r.principal.id,
            "scope": r.scope,
            "role": with.get("role"),
            "principal": with.get("principal"),
        }))
    }
}

/// The schema of `RoleAssignmentKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct RoleAssignmentSchema;

impl KindSchema for RoleAssignmentSchema {
    fn name(&self) -> &'static str {
        "azure.role_assignment"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["id", "principal_id"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &[
                "scope",
                "role",
                "principal",
                "principal_type",
                "description",
            ],
        );
        if let Some(scope) = c.required_str(
            "scope",
            "give an ARM id, e.g. `scope: ${steps.adt.outputs.id}`",
        ) && subscription_of(scope).is_none()
            && !scope
                .trim_matches('/')
                .to_ascii_lowercase()
                .starts_with("providers/")
        {
            c.errors.push(FieldError::new(
                "scope",
                format!("'{scope}' is not an ARM scope"),
                "use /subscriptions/{id}[/resourceGroups/{rg}[/providers/...]]",
            ));
        }
        c.required_str(
            "role",
            "a role name such as 'Azure Digital Twins Data Owner', or its GUID",
        );
        c.required_str(
            "principal",
            "a user principal name (ann@contoso.com) or an object id",
        );
        // An empty `principal_type` (an unset optional input) means "find out".
        if with.get("principal_type").and_then(Value::as_str) != Some("") {
            c.optional_enum("principal_type", &["User", "ServicePrincipal", "Group"]);
        }
        c.optional_str("description", "free text");
        c.errors
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        &["scope", "role", "principal"]
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }
}

#[async_trait]
impl StepKind for RoleAssignmentKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &RoleAssignmentSchema
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        self.check_permission(ctx, with).await?;
        // A principal known now is typed now (a read), so a directory the caller may not
        // read stops the run before anything is created.
        if fields::opt_string(with, "principal").is_some() {
            self.resolve_principal(with).await?;
        }
        Ok(())
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let r = self.resolve(ctx, with).await?;
        let arm = self.ctx.arm();
        // A first attempt goes straight to the PUT: the name is deterministic, so the PUT is
        // idempotent and its status says what happened (201 created, 200 it was there). A
        // rerun of an unfinished attempt, or an update, looks first, so that what it finds is
        // judged with the step's record (by the engine) and an existing one is not rewritten.
        let first_attempt = !ctx.was_creating() && ctx.previous_outputs().is_none();
        if !first_attempt && let Some(live) = arm.get_optional(&r.path(), API_VERSION).await? {
            ctx.progress(format!("role assignment {} exists", r.name));
            return Ok(Applied::existing(Self::outputs(&r, with, &live.body)));
        }
        let mut properties = json!({
            "roleDefinitionId": r.role_definition_id,
            "principalId": r.principal.id,
            "principalType": r.principal.principal_type.as_str(),
        });
        if let Some(d) = fields::opt_string(with, "description") {
            properties["description"] = json!(d);
        }
        let body = json!({ "properties": properties });
        ctx.note_creating().await?;
        let settings = &self.ctx.settings;
        let started = Instant::now();
        let mut wait = settings.principal_retry_interval;
        let mut attempt = 1;
        ctx.progress(format!(
            "assigning role to {} on {}",
            r.principal.id, r.scope
        ));
        loop {
            match arm.put(&r.path(), API_VERSION, &body).await {
                Ok(answer) => {
                    let found = answer.status == 200;
                    if found {
                        ctx.progress(format!("role assignment {} exists", r.name));
                    }
                    let outputs = Self::outputs(&r, with, &answer.body);
                    return Ok(Applied::created_if(!found, outputs));
                }
                Err(AzureError::Arm(e)) if e.code == "RoleAssignmentExists" => {
                    // Under a name this deployment did not derive: someone else's. Use it, never
                    // adopt it (whatever this step's record says about creating).
                    let existing = self.find_existing(&r).await?.unwrap_or(Value::Null);
                    let name = existing
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("another name");
                    let why = format!(
                        "the role was already assigned to this principal on this scope as {name}, not by this deployment"
                    );
                    ctx.progress(format!("{why}; it is used and kept"));
                    let outputs = Self::outputs(&r, with, &existing);
                    return Ok(Applied::not_ours(outputs).because(why));
                }
                Err(AzureError::Arm(e)) if e.code == "PrincipalNotFound" => {
                    let waited = started.elapsed();
                    if waited >= settings.principal_wait {
                        return Err(StepError::failed(format!(
                            "principal {} was still not found by Azure after {}s",
                            r.principal.id,
                            waited.as_secs()
                        ))
                        .with_code("PrincipalNotFound")
                        .with_help("new users and service principals can take several minutes to replicate; run twinup again later, and check that the object id belongs to this tenant"));
                    }
                    let pause = wait.min(settings.principal_wait - waited);
                    attempt += 1;
                    ctx.retrying(
                        attempt,
                        crate::http::retry::attempts_within(
                            settings.principal_wait,
                            settings.principal_retry_interval,
                            PRINCIPAL_LONGEST_RETRY,
                        ),
                        &format!(
                            "PrincipalNotFound: principal {} not visible to Azure yet (directory replication)",
                            r.principal.id
                        ),
                        pause,
                    );
                    interruptible(ctx, async {
                        tokio::time::sleep(pause).await;
                        Ok(())
                    })
                    .await?;
                    wait = (wait * 2).min(PRINCIPAL_LONGEST_RETRY);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        let recorded = ctx.previous_outputs()?;
        let text = |k: &str| recorded.get(k).and_then(Value::as_str);
        // (Records from before these fields existed are not compared.)
        let (Some(scope), Some(role), Some(principal)) =
            (text("scope"), text("role"), text("principal"))
        else {
            return None;
        };
        let new_scope = normalize_scope(&fields::string(with, "scope").ok()?);
        let new_role = fields::string(with, "role").ok()?;
        let new_principal = fields::string(with, "principal").ok()?;
        if scope.eq_ignore_ascii_case(&new_scope)
            && role.eq_ignore_ascii_case(&new_role)
            && principal.eq_ignore_ascii_case(&new_principal)
        {
            return None;
        }
        Some(Replacement {
            from: format!("role {role} for {principal} on {scope}"),
            to: format!("role {new_role} for {new_principal} on {new_scope}"),
            deletes_old: twinup_engine::created_by_step(recorded) == Some(true),
            deletes_first: false,
        })
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let live = self.read_live(ctx, with).await?;
        // An empty `principal_type` asks twinup to find the type out: it is not compared.
        Ok(match live {
            LiveState::Present { mut properties }
                if with.get("principal_type").and_then(Value::as_str) == Some("") =>
            {
                if let Some(p) = properties.as_object_mut() {
                    p.remove("principal_type");
                }
                LiveState::Present { properties }
            }
            other => other,
        })
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        _with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        let Some(id) = ctx
            .previous_outputs()
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(normalize_scope)
        else {
            return Err(
                StepError::failed("the checkpoint has no id for this role assignment")
                    .with_help("remove it by hand with `az role assignment delete`"),
            );
        };
        ctx.progress(format!("removing role assignment {id}"));
        match self.ctx.arm().delete(&id, API_VERSION).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deterministic_and_case_insensitive() {
        let a = assignment_name(None, "/subscriptions/S/resourceGroups/rg", "ROLE", "P");
        let b = assignment_name(None, "subscriptions/s/resourcegroups/RG/", "role", "p");
        assert_eq!(a, b);
        assert_ne!(
            a,
            assignment_name(None, "/subscriptions/s/resourceGroups/rg", "role", "q")
        );
        let d = assignment_name(
            Some("d1"),
            "/subscriptions/s/resourceGroups/rg",
            "role",
            "p",
        );
        assert_ne!(a, d, "the deployment id is part of the name");
        assert_ne!(
            d,
            assignment_name(
                Some("d2"),
                "/subscriptions/s/resourceGroups/rg",
                "role",
                "p"
            )
        );
        assert!(Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn scope_chain_walks_up_to_the_subscription() {
        let chain = scope_chain(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt",
        );
        assert_eq!(
            chain,
            [
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/adt",
                "/subscriptions/s/resourceGroups/rg",
                "/subscriptions/s",
            ]
        );
        assert_eq!(
            subscription_of("/subscriptions/s/resourceGroups/rg"),
            Some("s")
        );
    }

    #[test]
    fn permission_wildcards() {
        assert!(action_matches("*", ACTION));
        assert!(action_matches("Microsoft.Authorization/*", ACTION));
        assert!(action_matches(
            "microsoft.authorization/roleassignments/*",
            ACTION
        ));
        assert!(action_matches("*/write", ACTION));
        assert!(!action_matches("*/read", ACTION));
        assert!(!action_matches("Microsoft.Resources/*", ACTION));
        let owner = json!({"value":[{"actions":["*"],"notActions":[]}]});
        let contributor =
            json!({"value":[{"actions":["*"],"notActions":["Microsoft.Authorization/*/Write"]}]});
        let uaa =
            json!({"value":[{"actions":["*/read","Microsoft.Authorization/*"],"notActions":[]}]});
        assert!(permits(&owner, ACTION));
        assert!(!permits(&contributor, ACTION));
        assert!(permits(&uaa, ACTION));
        assert!(!permits(&json!({"value":[]}), ACTION));
    }
}
