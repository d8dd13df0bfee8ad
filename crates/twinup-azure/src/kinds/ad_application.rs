//! `azure.ad_application`: an app registration for a client of the Digital Twins data plane
//! (public client, redirect URIs, `requiredResourceAccess` from the manifest, single tenant),
//! upserted by a `uniqueName` derived from tenant, deployment, step and display name so a rerun
//! after a crash never creates a duplicate and two deployments never share an app. A changed
//! display name is a replacement: the new app is registered, and once the run succeeded `up`
//! deletes the recorded one if this step created it. Optionally its service principal and
//! admin consent, its audience, web and SPA redirect URIs and implicit grant
//! (`ad_application_settings`) and owners (`ad_application_owners`).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, Replacement, StepContext, StepError,
    StepKind,
};
use uuid::Uuid;

use super::AzureContext;
use super::api_permissions_manifest::manifest;
use super::fields::{self, Checker};
use super::{ad_application_owners as owners, ad_application_settings as settings};
use crate::graph::{Application, GraphClient};

/// The `azure.ad_application` kind.
pub struct AdApplicationKind {
    ctx: Arc<AzureContext>,
}

/// The deterministic `uniqueName` of an app: same tenant, deployment, step and display name
/// give the same name. A checkpoint from before deployment ids (`deployment: None`) derives it
/// from tenant, step and display name, as then.
pub fn unique_name(
    tenant_id: &str,
    deployment: Option<&str>,
    step_id: &str,
    display_name: &str,
) -> String {
    let key = match deployment {
        Some(id) => format!(
            "twinup:application:{}|{}|{}|{}",
            tenant_id.to_ascii_lowercase(),
            id,
            step_id,
            display_name
        ),
        None => format!(
            "twinup:application:{}|{}|{}",
            tenant_id.to_ascii_lowercase(),
            step_id,
            display_name
        ),
    };
    format!(
        "twinup-{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes())
    )
}

fn redirect_uris(with: &Value) -> Vec<String> {
    match with.get("redirect_uris") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => vec!["http://localhost".to_string()],
    }
}

fn required_access(with: &Value) -> Value {
    match with.get("required_resource_access") {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| manifest()),
        _ => manifest(),
    }
}

/// The application body for `with`.
pub fn desired_body(with: &Value, display_name: &str) -> Value {
    let mut body = json!({
        "displayName": display_name,
        "signInAudience": settings::audience(with),
        "isFallbackPublicClient": true,
        "publicClient": { "redirectUris": redirect_uris(with) },
        "requiredResourceAccess": required_access(with),
    });
    settings::apply_to_body(&mut body, with);
    body
}

/// True if the live application already matches the desired body.
pub fn matches(live: &Value, desired: &Value) -> bool {
    let uris = |v: &Value| -> BTreeSet<String> {
        fields::strings_of(v.pointer("/publicClient/redirectUris"))
    };
    live.get("displayName") == desired.get("displayName")
        && settings::matches(live, desired)
        && uris(live) == uris(desired)
        && live.get("requiredResourceAccess") == desired.get("requiredResourceAccess")
}

/// The outputs, with the app's identity (`unique_name`, `display_name`) recorded for `down`,
/// replacement and `verify`.
fn outputs_of(app: &Application, sp_id: Option<&str>, tenant_id: &str, unique: &str) -> Outputs {
    fields::outputs(json!({
        "client_id": app.app_id,
        "object_id": app.object_id,
        "service_principal_id": sp_id,
        "tenant_id": tenant_id,
        "unique_name": unique,
        "display_name": app.body.get("displayName"),
    }))
}

/// The recorded app this step created, when `unique` (derived from the current `with`) names
/// another one: (object id, appId, display name).
fn replaced_app(ctx: &StepContext, unique: &str) -> Option<(String, String, String)> {
    let recorded = ctx.previous_outputs()?;
    if twinup_engine::created_by_step(recorded) != Some(true) {
        return None;
    }
    let text = |k: &str| recorded.get(k).and_then(Value::as_str).unwrap_or_default();
    let old_unique = text("unique_name");
    if old_unique.is_empty() || text("object_id").is_empty() || old_unique == unique {
        return None;
    }
    Some((
        text("object_id").to_string(),
        text("client_id").to_string(),
        text("display_name").to_string(),
    ))
}

/// Outputs of a step turned off with `enabled: false`: no app, but the tenant is still known.
fn disabled_outputs(tenant_id: &str, why: String) -> Applied {
    let outputs = fields::outputs(json!({
        "client_id": "",
        "object_id": "",
        "service_principal_id": null,
        "tenant_id": tenant_id,
    }));
    Applied::turned_off(outputs, why)
}

impl AdApplicationKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        AdApplicationKind { ctx }
    }

    fn unique_name(&self, ctx: &StepContext, with: &Value) -> Result<String, StepError> {
        if let Some(name) = fields::opt_string(with, "unique_name") {
            return Ok(name);
        }
        let display = fields::string(with, "display_name")?;
        Ok(unique_name(
            &self.ctx.tenant_id,
            ctx.deployment_id(),
            ctx.step_id(),
            &display,
        ))
    }

    /// Grants every delegated scope of the manifest to the app's service principal, tenant-wide.
    async fn grant_consent(
        &self,
        ctx: &StepContext,
        graph: &GraphClient,
        sp_id: &str,
        access: &Value,
    ) -> Result<(), StepError> {
        for entry in access.as_array().into_iter().flatten() {
            let Some(resource_app) = entry.get("resourceAppId").and_then(Value::as_str) else {
                continue;
            };
            let resource = graph.find_service_principal(resource_app).await?.ok_or_else(|| {
                StepError::failed(format!("the service principal of API {resource_app} is not in this tenant"))
                    .with_help("register the resource provider (az provider register --namespace Microsoft.DigitalTwins) or create a Digital Twins instance first, then rerun")
            })?;
            let resource_id = resource
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let mut wanted = BTreeSet::new();
            for access in entry
                .get("resourceAccess")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if access.get("type").and_then(Value::as_str) != Some("Scope") {
                    continue;
                }
                let id = access.get("id").and_then(Value::as_str).unwrap_or_default();
                let value = resource
                    .get("oauth2PermissionScopes")
                    .and_then(Value::as_array)
                    .and_then(|scopes| {
                        scopes
                            .iter()
                            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
                    })
                    .and_then(|s| s.get("value").and_then(Value::as_str))
                    .unwrap_or("user_impersonation");
                wanted.insert(value.to_string());
            }
            if wanted.is_empty() {
                continue;
            }
            match graph.find_grant(sp_id, &resource_id).await? {
                Some(grant) => {
                    let have: BTreeSet<String> = grant
                        .get("scope")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    if !wanted.is_subset(&have) {
                        let all: Vec<String> = have.union(&wanted).cloned().collect();
                        let id = grant.get("id").and_then(Value::as_str).unwrap_or_default();
                        ctx.progress("extending admin consent".to_string());
                        graph.patch_grant(id, &all.join(" ")).await?;
                    }
                }
                None => {
                    ctx.progress(format!("granting admin consent for {resource_app}"));
                    let scopes: Vec<String> = wanted.into_iter().collect();
                    graph
                        .create_grant(sp_id, &resource_id, &scopes.join(" "))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// An absolute http(s) URL with a host, as Entra ID accepts for reply URLs.
/// Longest app display name (Graph `application` resource: displayName, at most 256
/// characters).
const MAX_DISPLAY_NAME_CHARS: usize = 256;
/// Most reply URLs on one app, and the longest (Learn: "Redirect URI (reply URL) restrictions
/// and limitations": 256 URIs for work or school accounts, 256 characters each).
const MAX_REDIRECT_URIS: usize = 256;
const MAX_REDIRECT_URI_CHARS: usize = 256;

fn is_redirect_url(text: &str) -> bool {
    match url::Url::parse(text) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.host().is_some(),
        Err(_) => false,
    }
}

/// The schema of `AdApplicationKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct AdApplicationSchema;

impl KindSchema for AdApplicationSchema {
    fn name(&self) -> &'static str {
        "azure.ad_application"
    }

    fn turned_off(&self, with: &Value) -> Option<String> {
        (with.get("enabled") == Some(&Value::Bool(false)))
            .then(|| "turned off (enabled: false)".to_string())
    }

    fn outputs(&self) -> &'static [&'static str] {
        &[
            "client_id",
            "object_id",
            "service_principal_id",
            "tenant_id",
        ]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &[
                "enabled",
                "display_name",
                "redirect_uris",
                "required_resource_access",
                "create_service_principal",
                "grant_admin_consent",
                "unique_name",
                "sign_in_audience",
                "web_redirect_uris",
                "spa_redirect_uris",
                "implicit_grant",
                "owners",
            ],
        );
        c.required_str(
            "display_name",
            "the app's display name, e.g. `display_name: twins-client`",
        );
        c.max_chars("display_name", MAX_DISPLAY_NAME_CHARS);
        match c.get("redirect_uris") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(v) if twinup_engine::contains_unknown(v) && !v.is_array() => {}
            Some(Value::Array(items)) if items.iter().all(fields::string_or_unknown) => {
                if items.len() > MAX_REDIRECT_URIS {
                    c.errors.push(FieldError::new(
                        "redirect_uris",
                        format!(
                            "{} reply URLs given; an app registration holds at most {MAX_REDIRECT_URIS}",
                            items.len()
                        ),
                        "remove reply URLs",
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    let text = item.as_str().unwrap_or_default();
                    if !twinup_engine::contains_unknown(item)
                        && text.chars().count() > MAX_REDIRECT_URI_CHARS
                    {
                        c.errors.push(FieldError::new(
                            format!("redirect_uris[{i}]"),
                            format!(
                                "the reply URL has {} characters; Entra ID allows at most {MAX_REDIRECT_URI_CHARS}",
                                text.chars().count()
                            ),
                            "shorten the URL",
                        ));
                    } else if !twinup_engine::contains_unknown(item) && !is_redirect_url(text) {
                        c.errors.push(FieldError::new(
                            format!("redirect_uris[{i}]"),
                            format!("`{text}` is not a valid reply URL"),
                            "give an absolute http(s) URL, e.g. http://localhost or https://app.example.com/auth",
                        ));
                    }
                }
            }
            Some(_) => c.errors.push(FieldError::new(
                "redirect_uris",
                "`redirect_uris` must be a list of URLs",
                "e.g. `redirect_uris: [http://localhost]`",
            )),
        }
        match c.get("required_resource_access") {
            None | Some(Value::Null) | Some(Value::Array(_)) | Some(Value::String(_)) => {}
            Some(v) if twinup_engine::contains_unknown(v) => {}
            Some(_) => c.errors.push(FieldError::new(
                "required_resource_access",
                "`required_resource_access` must be a list",
                "use `${steps.<manifest step>.outputs.manifest}`",
            )),
        }
        let public_uris = c
            .get("redirect_uris")
            .and_then(Value::as_array)
            .map_or(1, Vec::len);
        settings::validate(&mut c, public_uris);
        owners::validate(&mut c);
        c.optional_bool("enabled");
        c.optional_bool("create_service_principal");
        c.optional_bool("grant_admin_consent");
        c.optional_str("unique_name", "an alternate key for the app");
        c.errors
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        &["display_name", "unique_name"]
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }
}

#[async_trait]
impl StepKind for AdApplicationKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &AdApplicationSchema
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        if let Some(why) = AdApplicationSchema.turned_off(with) {
            if ctx.was_creating() {
                // Turning it off now would forget an app that attempt may have registered.
                return Err(super::unfinished_create("the app registration"));
            }
            ctx.progress(format!("app registration {why}"));
            return Ok(disabled_outputs(&self.ctx.tenant_id, why));
        }
        let display = fields::string(with, "display_name")?;
        let unique = self.unique_name(ctx, with)?;
        let desired = desired_body(with, &display);
        let graph = self.ctx.graph()?;
        let existing = graph.get_application_by_unique_name(&unique).await?;
        // A twinup-derived `uniqueName` is only ever used by this step, so an app found under it
        // was created by an earlier (perhaps crashed) run; a `unique_name` given in the plan may
        // name an app made elsewhere.
        let derived = fields::opt_string(with, "unique_name").is_none();
        let created = derived || existing.is_none();
        let app = match existing {
            Some(app) if matches(&app.body, &desired) => {
                ctx.progress(format!("application {display} is up to date"));
                app
            }
            existing => {
                ctx.progress(format!(
                    "{} application {display}",
                    if existing.is_some() {
                        "updating"
                    } else {
                        "registering"
                    }
                ));
                let body = match &existing {
                    Some(live) => settings::for_update(&desired, &live.body),
                    None => {
                        // Durable before the create, so turning the step off after a crash
                        // here cannot forget the app.
                        ctx.note_creating().await?;
                        desired.clone()
                    }
                };
                graph.upsert_application(&unique, &body).await?
            }
        };
        owners::ensure(ctx, &graph, &app.object_id, &settings::list(with, "owners")).await?;
        let consent = fields::opt_bool(with, "grant_admin_consent", false);
        let want_sp = consent || fields::opt_bool(with, "create_service_principal", true);
        let sp_id = if want_sp {
            let sp = graph.ensure_service_principal(&app.app_id).await?;
            sp.get("id").and_then(Value::as_str).map(str::to_string)
        } else {
            None
        };
        if consent && let Some(sp) = &sp_id {
            self.grant_consent(ctx, &graph, sp, &desired["requiredResourceAccess"])
                .await?;
        }
        let outputs = outputs_of(&app, sp_id.as_deref(), &self.ctx.tenant_id, &unique);
        Ok(Applied::created_if(created, outputs))
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        if AdApplicationSchema.turned_off(with).is_some() {
            return Ok(());
        }
        let Some(display) = fields::opt_string(with, "display_name") else {
            return Ok(());
        };
        let unique = self.unique_name(ctx, with)?;
        let graph = self.ctx.graph()?;
        owners::preflight(ctx, &graph, &settings::list(with, "owners")).await?;
        let filter = format!("displayName eq '{}'", display.replace('\'', "''"));
        for app in graph.find_applications(&filter).await? {
            let theirs = app.get("uniqueName").and_then(Value::as_str) != Some(unique.as_str());
            if theirs {
                let app_id = app.get("appId").and_then(Value::as_str).unwrap_or("?");
                ctx.progress(format!(
                    "an app registration named {display} already exists (appId {app_id}) and this deployment did not make it; it is left alone and a new one is registered"
                ));
            }
        }
        Ok(())
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        if AdApplicationSchema.turned_off(with).is_some() {
            // Turned off after this deployment registered its app: the app it made goes once
            // the run is done (as `down` would delete it), instead of being forgotten.
            let (_, app_id, old_name) = replaced_app(ctx, "")?;
            return Some(Replacement {
                from: format!("app {old_name} (appId {app_id})"),
                to: "no app (turned off)".to_string(),
                deletes_old: true,
                deletes_first: false,
            });
        }
        let unique = self.unique_name(ctx, with).ok()?;
        let (_, app_id, old_name) = replaced_app(ctx, &unique)?;
        let display = fields::string(with, "display_name").ok()?;
        Some(Replacement {
            from: format!("app {old_name} (appId {app_id})"),
            to: format!("app {display}"),
            deletes_old: true,
            deletes_first: false,
        })
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        if AdApplicationSchema.turned_off(with).is_some() {
            // Turned off: nothing should exist, and nothing is looked for.
            return Ok(LiveState::Present {
                properties: json!({ "enabled": false }),
            });
        }
        // `verify` and the refresh read the app the step recorded.
        let recorded = ctx
            .previous_outputs()
            .and_then(|o| o.get("unique_name"))
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty() && ctx.read_at_record());
        let unique = match recorded {
            Some(recorded) => recorded.to_string(),
            None => self.unique_name(ctx, with)?,
        };
        let graph = self.ctx.graph()?;
        Ok(match graph.get_application_by_unique_name(&unique).await? {
            None => LiveState::Absent,
            Some(app) => {
                let mut properties = json!({
                    "client_id": app.app_id,
                    "object_id": app.object_id,
                    "display_name": app.body.get("displayName"),
                    "redirect_uris": app.body.pointer("/publicClient/redirectUris"),
                    "required_resource_access": app.body.get("requiredResourceAccess"),
                });
                // The sign-in settings are compared only when the plan sets them.
                for (k, v) in fields::outputs(settings::live_properties(&app.body)) {
                    if with.get(&k).is_some() {
                        properties[k] = v;
                    }
                }
                LiveState::Present { properties }
            }
        })
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        _with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        let object_id = ctx
            .previous_outputs()
            .and_then(|o| o.get("object_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if object_id.is_empty() {
            return Ok(()); // turned off: there is no app
        }
        ctx.progress(format!(
            "deleting application {object_id} (and its service principal)"
        ));
        let graph = self.ctx.graph()?;
        graph.delete_application(&object_id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_name_is_stable_and_scoped() {
        let a = unique_name("T", None, "app", "Twins client");
        assert_eq!(a, unique_name("t", None, "app", "Twins client"));
        assert_ne!(a, unique_name("t2", None, "app", "Twins client"));
        assert_ne!(a, unique_name("t", None, "app", "Other"));
        assert!(a.starts_with("twinup-"));
        let one = unique_name("t", Some("d1"), "app", "Twins client");
        assert_ne!(one, a, "a deployment id changes the name");
        assert_ne!(one, unique_name("t", Some("d2"), "app", "Twins client"));
        assert_eq!(one, unique_name("T", Some("d1"), "app", "Twins client"));
    }

    #[test]
    fn body_defaults_to_the_adt_manifest_and_localhost() {
        let body = desired_body(&json!({}), "x");
        assert_eq!(body["requiredResourceAccess"], manifest());
        assert_eq!(
            body["publicClient"]["redirectUris"],
            json!(["http://localhost"])
        );
        assert_eq!(body["signInAudience"], "AzureADMyOrg");
        let mut live = body.clone();
        live["id"] = json!("o");
        live["publicClient"]["redirectUris"] = json!(["http://localhost"]);
        assert!(matches(&live, &body));
        live["displayName"] = json!("y");
        assert!(!matches(&live, &body));
    }
}
