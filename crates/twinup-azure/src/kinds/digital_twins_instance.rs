//! `azure.digital_twins_instance`: creates or updates an Azure Digital Twins instance (PUT,
//! api-version 2023-01-31, long-running). The operation token is saved before waiting, so a
//! rerun after a crash resumes the wait instead of sending a second PUT.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use twinup_engine::{
    CREATED_OUTPUT, FieldError, LiveState, Outputs, StepContext, StepError, StepKind, created_flag,
};

use super::fields::{self, Checker};
use super::resource_group::same_location;
use super::{AzureContext, delete_arm, wait_for};
use crate::lro::{self, LroKind, LroToken, Started};

/// API version of Microsoft.DigitalTwins.
pub const API_VERSION: &str = "2023-01-31";

/// The `azure.digital_twins_instance` kind.
pub struct DigitalTwinsInstanceKind {
    ctx: Arc<AzureContext>,
    /// Instances (by lower-case path) this run's preflight found absent with their name free:
    /// their first apply creates them without reading them again.
    absent: std::sync::Mutex<std::collections::HashSet<String>>,
}

struct Target {
    sub: String,
    group: String,
    name: String,
    path: String,
}

/// True if `name` is a valid instance name: 3-63 letters, digits or hyphens, no hyphen at either end.
pub fn valid_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The instance's host name as a URL: `https://` is prepended when it has no scheme.
pub fn host_url(host: &str) -> String {
    if host.contains("://") {
        host.to_string()
    } else {
        format!("https://{host}")
    }
}

fn outputs_of(body: &Value, created: bool) -> Outputs {
    let host = body
        .pointer("/properties/hostName")
        .and_then(Value::as_str)
        .map(host_url);
    fields::outputs(json!({
        "id": body.get("id").cloned().unwrap_or(Value::Null),
        "host_name": host,
        "principal_id": body.pointer("/identity/principalId").cloned().unwrap_or(Value::Null),
        CREATED_OUTPUT: created,
    }))
}

/// The PUT body for `with`.
fn desired_body(with: &Value, location: &str) -> Value {
    let mut body = json!({ "location": location });
    if let Some(tags) = with.get("tags").filter(|t| t.is_object()) {
        body["tags"] = tags.clone();
    }
    if let Some(identity) = fields::opt_string(with, "identity") {
        body["identity"] = json!({ "type": canonical(&identity, &["None", "SystemAssigned"]) });
    }
    if let Some(access) = fields::opt_string(with, "public_network_access") {
        body["properties"] =
            json!({ "publicNetworkAccess": canonical(&access, &["Enabled", "Disabled"]) });
    }
    body
}

fn canonical(value: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| a.to_string())
        .unwrap_or_else(|| value.to_string())
}

/// True if the live instance already has everything `desired` asks for.
fn matches(live: &Value, desired: &Value) -> bool {
    let text = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let state_ok =
        lro::provisioning_state(live).is_none_or(|s| s.eq_ignore_ascii_case("Succeeded"));
    let tags_ok = desired
        .get("tags")
        .is_none_or(|t| Some(t) == live.get("tags"));
    let identity_ok = match text(desired, "/identity/type") {
        None => true,
        Some(want) => text(live, "/identity/type").unwrap_or_else(|| "none".into()) == want,
    };
    let access_ok = match text(desired, "/properties/publicNetworkAccess") {
        None => true,
        Some(want) => {
            text(live, "/properties/publicNetworkAccess").unwrap_or_else(|| "enabled".into())
                == want
        }
    };
    state_ok && tags_ok && identity_ok && access_ok
}

impl DigitalTwinsInstanceKind {
    /// The kind over a shared context.
    pub fn new(ctx: Arc<AzureContext>) -> Self {
        DigitalTwinsInstanceKind {
            ctx,
            absent: Default::default(),
        }
    }

    /// True (once) when this run's preflight found the instance at `path` absent.
    fn take_absent(&self, path: &str) -> bool {
        self.absent
            .lock()
            .map(|mut a| a.remove(&path.to_ascii_lowercase()))
            .unwrap_or(false)
    }

    fn target(&self, with: &Value) -> Result<Target, StepError> {
        let sub = self.ctx.subscription(with)?;
        let group = fields::string(with, "resource_group")?;
        let name = fields::string(with, "name")?;
        let path = format!(
            "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/{name}"
        );
        Ok(Target {
            sub,
            group,
            name,
            path,
        })
    }

    async fn wait(
        &self,
        ctx: &StepContext,
        token: &LroToken,
        name: &str,
        created: bool,
    ) -> Result<Outputs, StepError> {
        let what = format!("digital twins instance {name}");
        let body = wait_for(&self.ctx, ctx, token, &what).await?;
        Ok(outputs_of(&body, created))
    }
}

#[async_trait]
impl StepKind for DigitalTwinsInstanceKind {
    fn name(&self) -> &'static str {
        "azure.digital_twins_instance"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["id", "host_name", "principal_id"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(
            self.name(),
            with,
            &[
                "name",
                "resource_group",
                "location",
                "tags",
                "identity",
                "public_network_access",
                "subscription_id",
            ],
        );
        if let Some(name) =
            c.required_str("name", "give the instance name, e.g. `name: adt-contoso`")
            && !valid_name(name)
        {
            c.errors.push(FieldError::new(
                "name",
                format!("'{name}' is not a valid Digital Twins instance name"),
                "use 3-63 letters, digits and hyphens, not starting or ending with a hyphen",
            ));
        }
        c.required_str(
            "resource_group",
            "name the resource group, e.g. `resource_group: ${steps.rg.outputs.name}`",
        );
        c.required_location("location");
        c.optional_tags("tags");
        c.optional_enum("identity", &["None", "SystemAssigned"]);
        c.optional_enum("public_network_access", &["Enabled", "Disabled"]);
        c.optional_str("subscription_id", "a subscription id (GUID)");
        c.errors
    }

    async fn preflight(&self, _ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        if fields::unresolved(with) {
            return Ok(()); // names come from earlier steps; checked at apply time
        }
        let t = self.target(with)?;
        let location = fields::string(with, "location")?;
        let arm = self.ctx.arm();
        // The name check comes first: a free name means the instance does not exist (names are
        // global), so only a taken name costs a read, to tell our own instance from another's.
        let check =
            json!({ "name": t.name, "type": "Microsoft.DigitalTwins/digitalTwinsInstances" });
        let path = format!(
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/checkNameAvailability",
            t.sub,
            location.replace(' ', "").to_ascii_lowercase()
        );
        let answer = arm.post(&path, API_VERSION, Some(&check)).await?;
        if answer.body.get("nameAvailable").and_then(Value::as_bool) != Some(false) {
            if let Ok(mut absent) = self.absent.lock() {
                absent.insert(t.path.to_ascii_lowercase());
            }
            return Ok(());
        }
        if arm.get_optional(&t.path, API_VERSION).await?.is_some() {
            return Ok(()); // our own instance: a rerun updates it
        }
        let reason = answer
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("already in use");
        Err(
            StepError::rejected(format!("instance name {} is taken: {reason}", t.name))
                .with_code(
                    answer
                        .body
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("AlreadyExists"),
                )
                .with_help("instance names are global; choose another `name`"),
        )
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Outputs, StepError> {
        let t = self.target(with)?;
        let location = fields::string(with, "location")?;
        let desired = desired_body(with, &location);
        let arm = self.ctx.arm();
        let resource_url = arm.url(&t.path, API_VERSION, &[])?;
        // Found absent by this run's preflight moments ago: no second read before creating.
        let known_absent =
            self.take_absent(&t.path) && !ctx.was_creating() && ctx.previous_outputs().is_none();
        let live = if known_absent {
            None
        } else {
            arm.get_optional(&t.path, API_VERSION).await?
        };
        let created = created_flag(ctx, live.is_some());
        if live.is_none() {
            ctx.note_creating().await?;
        }
        if let Some(live) = live {
            let live_location = live
                .body
                .get("location")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !same_location(live_location, &location) {
                return Err(StepError::rejected(format!(
                    "digital twins instance {} already exists in {live_location}, not {location}; the location cannot change",
                    t.name
                ))
                .with_help(format!("set `location: {live_location}` or choose another name")));
            }
            if let Some(state) = lro::provisioning_state(&live.body)
                && !lro::is_terminal(state)
            {
                // Something (a previous run without a saved token) is still working on it.
                let token = LroToken {
                    operation_url: resource_url.to_string(),
                    kind: LroKind::ResourceState,
                    resource_url: resource_url.to_string(),
                    method: "PUT".into(),
                    started_at: chrono::Utc::now(),
                    retry_after_ms: None,
                };
                ctx.save_resume_token(token.to_value()).await?;
                return self.wait(ctx, &token, &t.name, created).await;
            }
            if matches(&live.body, &desired) {
                ctx.progress(format!("digital twins instance {} is up to date", t.name));
                return Ok(outputs_of(&live.body, created));
            }
            ctx.progress(format!("updating digital twins instance {}", t.name));
        } else {
            ctx.progress(format!(
                "creating digital twins instance {} in {}",
                t.name, t.group
            ));
        }
        let initial = arm.put(&t.path, API_VERSION, &desired).await?;
        let what = format!("digital twins instance {}", t.name);
        match lro::start(&Method::PUT, &resource_url, initial, &what)? {
            Started::Done(response) => {
                if response.body.pointer("/properties/hostName").is_some() {
                    Ok(outputs_of(&response.body, created))
                } else {
                    Ok(outputs_of(
                        &arm.get(&t.path, API_VERSION).await?.body,
                        created,
                    ))
                }
            }
            Started::Pending(token) => {
                ctx.save_resume_token(token.to_value()).await?;
                self.wait(ctx, &token, &t.name, created).await
            }
        }
    }

    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Outputs, StepError> {
        let t = self.target(with)?;
        match LroToken::from_value(token) {
            Ok(token) => {
                ctx.progress(format!(
                    "resuming the wait for digital twins instance {}",
                    t.name
                ));
                // A resumed create is this step's own work unless an earlier run found it.
                let created = ctx
                    .previous_outputs()
                    .and_then(twinup_engine::created_by_step)
                    .unwrap_or(true);
                self.wait(ctx, &token, &t.name, created).await
            }
            Err(_) => self.apply(ctx, with).await,
        }
    }

    async fn read(&self, _ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let t = self.target(with)?;
        Ok(
            match self.ctx.arm().get_optional(&t.path, API_VERSION).await? {
                None => LiveState::Absent,
                Some(r) => LiveState::Present {
                    properties: json!({
                        "location": r.body.get("location"),
                        "tags": r.body.get("tags").cloned().unwrap_or(json!({})),
                        "identity": r.body.pointer("/identity/type"),
                        "public_network_access": r.body.pointer("/properties/publicNetworkAccess"),
                        "provisioning_state": lro::provisioning_state(&r.body),
                        "host_name": r.body.pointer("/properties/hostName").and_then(Value::as_str).map(host_url),
                    }),
                },
            },
        )
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: Option<&Value>,
    ) -> Result<(), StepError> {
        // The instance the step recorded, never a re-render of the current plan.
        let path = match super::recorded_id(ctx) {
            Some(id) => id,
            None => self.target(with)?.path,
        };
        let what = format!("digital twins instance {}", super::name_of(&path));
        delete_arm(&self.ctx, ctx, &path, API_VERSION, token, &what).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names() {
        assert!(valid_name("adt-1"));
        assert!(!valid_name("-adt"));
        assert!(!valid_name("adt-"));
        assert!(!valid_name("ad"));
        assert!(!valid_name("adt_1"));
        assert!(!valid_name(&"a".repeat(64)));
    }

    #[test]
    fn host_name_gets_a_scheme() {
        assert_eq!(
            host_url("x.api.weu.digitaltwins.azure.net"),
            "https://x.api.weu.digitaltwins.azure.net"
        );
        assert_eq!(host_url("https://x.test"), "https://x.test");
    }

    #[test]
    fn live_instance_matching() {
        let with = json!({"tags": {"a": "1"}, "identity": "systemassigned", "public_network_access": "Enabled"});
        let desired = desired_body(&with, "westeurope");
        assert_eq!(desired["identity"]["type"], "SystemAssigned");
        let live = json!({"tags": {"a": "1"}, "identity": {"type": "SystemAssigned"},
            "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": "Enabled"}});
        assert!(matches(&live, &desired));
        let mut other = live.clone();
        other["tags"] = json!({"a": "2"});
        assert!(!matches(&other, &desired));
        // Unspecified fields are not compared.
        assert!(matches(&live, &desired_body(&json!({}), "westeurope")));
    }
}
