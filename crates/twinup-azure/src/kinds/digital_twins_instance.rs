//! `azure.digital_twins_instance`: creates or updates an Azure Digital Twins instance (PUT,
//! api-version 2023-01-31, long-running). The operation token is saved before waiting, so a
//! rerun after a crash resumes the wait instead of sending a second PUT. Its managed
//! identities (system- and user-assigned) are in `digital_twins_identity`.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Outputs, Replacement, StepContext, StepError,
    StepKind,
};

use super::digital_twins_identity as identity;
use super::fields::{self, Checker};
use super::resource_group::same_location;
use super::{AzureContext, delete_arm, tags, wait_for};
use crate::lro::{self, LroKind, LroToken, Started};
use crate::{permissions, providers};

/// API version of Microsoft.DigitalTwins.
pub const API_VERSION: &str = "2023-01-31";

/// The `azure.digital_twins_instance` kind.
pub struct DigitalTwinsInstanceKind {
    ctx: Arc<AzureContext>,
    /// Instances (by lower-case path) this run's preflight found absent with their name free:
    /// their first apply creates them without reading them again.
    absent: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Subscriptions (lower-case) this run's preflight found not registered for
    /// Microsoft.DigitalTwins: the first apply registers the provider, then checks the name.
    unregistered: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// The resource provider namespace of Digital Twins.
pub const NAMESPACE: &str = "Microsoft.DigitalTwins";
const REGISTER_ACTION: &str = "Microsoft.DigitalTwins/register/action";

/// The fields that name an instance: another subscription, group, name or location is
/// another instance (none of them can change in place).
const IDENTIFYING: &[&str] = &["subscription_id", "resource_group", "name", "location"];

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

fn outputs_of(body: &Value) -> Outputs {
    let host = body
        .pointer("/properties/hostName")
        .and_then(Value::as_str)
        .map(host_url);
    fields::outputs(json!({
        "id": body.get("id").cloned().unwrap_or(Value::Null),
        "location": body.get("location").cloned().unwrap_or(Value::Null),
        "host_name": host,
        "principal_id": body.pointer("/identity/principalId").cloned().unwrap_or(Value::Null),
    }))
}

/// What `checkNameAvailability` said.
enum NameCheck {
    Free,
    /// Taken by this deployment's own instance.
    Ours,
    /// The caller may not make the check (403); the message says why.
    NotAllowed(String),
}

/// The PUT body for `with`.
fn desired_body(with: &Value, location: &str) -> Value {
    let mut body = json!({ "location": location });
    if let Some(tags) = with.get("tags").filter(|t| t.is_object()) {
        body["tags"] = tags.clone();
    }
    if let Some(identity) = identity::desired(with) {
        body["identity"] = identity;
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

/// The PUT body that updates the live instance `live` to `with`: the live resource with its
/// read-only fields removed and the plan's fields applied (read-modify-write, as the spec's
/// PUT asks), so nothing the plan does not set (other tags, private endpoint connections,
/// user-assigned identities) is dropped. Tags are merged: the plan's keys added or changed.
fn update_body(live: &Value, desired: &Value, with: &Value) -> Value {
    let mut body = live.clone();
    if let Some(map) = body.as_object_mut() {
        for read_only in ["id", "name", "type", "systemData", "etag"] {
            map.remove(read_only);
        }
    }
    if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
        for read_only in [
            "provisioningState",
            "createdTime",
            "lastUpdatedTime",
            "hostName",
        ] {
            props.remove(read_only);
        }
    }
    if let Some(identity) = body.get_mut("identity").and_then(Value::as_object_mut) {
        identity.remove("principalId");
        identity.remove("tenantId");
        if let Some(users) = identity
            .get_mut("userAssignedIdentities")
            .and_then(Value::as_object_mut)
        {
            for value in users.values_mut() {
                *value = json!({});
            }
        }
    }
    let planned = tags::planned(desired);
    if !planned.is_empty() {
        body["tags"] = Value::Object(tags::merged(&planned, &tags::live(live)));
    }
    if let Some(wanted) = desired.get("identity") {
        body["identity"] = identity::for_update(body.get("identity"), wanted, with);
    }
    if let Some(access) = desired.pointer("/properties/publicNetworkAccess") {
        if body.get("properties").is_none_or(|p| !p.is_object()) {
            body["properties"] = json!({});
        }
        body["properties"]["publicNetworkAccess"] = access.clone();
    }
    body
}

/// True if the live instance already has everything `desired` asks for.
fn matches(live: &Value, desired: &Value, with: &Value) -> bool {
    let text = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let state_ok =
        lro::provisioning_state(live).is_none_or(|s| s.eq_ignore_ascii_case("Succeeded"));
    let tags_ok = tags::missing(&tags::planned(desired), &tags::live(live)).is_empty();
    let identity_ok = identity::matches(live.get("identity"), desired.get("identity"), with);
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
            unregistered: Default::default(),
        }
    }

    /// Preflight of the provider registration: `Ok(true)` when the namespace is registered (or
    /// its state cannot be read: the calls that follow are the test), `Ok(false)` when apply
    /// must register it first, an error when it is not registered and the caller may not
    /// register it.
    async fn registration_preflight(
        &self,
        ctx: &StepContext,
        sub: &str,
    ) -> Result<bool, StepError> {
        let arm = self.ctx.arm();
        let state = match providers::state(&arm, sub, NAMESPACE).await {
            Ok(state) => state,
            Err(e) => {
                ctx.progress(format!(
                    "warning: cannot read the registration of {NAMESPACE} with subscription {sub} ({e}); going on"
                ));
                return Ok(true);
            }
        };
        if providers::is_registered(&state) {
            return Ok(true);
        }
        let subscription = format!("/subscriptions/{sub}");
        match permissions::list(&arm, &subscription).await {
            Ok(list) if !permissions::permits(&list, REGISTER_ACTION) => {
                return Err(StepError::rejected(format!(
                    "subscription {sub} is not registered for {NAMESPACE} ({state}) and the signed-in principal ({}) may not register it",
                    self.ctx.token_provider.name()
                ))
                .with_code(providers::MISSING_REGISTRATION)
                .with_help(format!(
                    "ask an Owner or Contributor of the subscription to run `az provider register --namespace {NAMESPACE} --subscription {sub}` (it needs {REGISTER_ACTION}), then run twinup again"
                )));
            }
            Ok(_) => {}
            Err(e) => ctx.progress(format!(
                "warning: cannot read your permissions on {subscription} ({e}); trying to register {NAMESPACE} anyway"
            )),
        }
        ctx.progress(format!(
            "{NAMESPACE} is {state} with subscription {sub}; it is registered before the instance is created"
        ));
        if let Ok(mut u) = self.unregistered.lock() {
            u.insert(sub.to_ascii_lowercase());
        }
        Ok(false)
    }

    /// Registers the provider when preflight found it unregistered (or `force`), then checks the
    /// instance name, which could not be checked before.
    async fn register_provider(
        &self,
        ctx: &StepContext,
        t: &Target,
        location: &str,
        force: bool,
    ) -> Result<bool, StepError> {
        let noted = self
            .unregistered
            .lock()
            .map(|mut u| u.remove(&t.sub.to_ascii_lowercase()))
            .unwrap_or(false);
        if !noted && !force {
            return Ok(false);
        }
        let settings = &self.ctx.settings;
        let progress = super::progress_fn(ctx);
        let arm = self.ctx.arm();
        let register = providers::ensure_registered(
            &arm,
            &t.sub,
            NAMESPACE,
            settings.registration_wait,
            settings.registration_interval,
            &progress,
        );
        super::interruptible(ctx, async { register.await.map_err(StepError::from) }).await?;
        if let NameCheck::NotAllowed(why) = self.check_name(t, location).await? {
            ctx.progress(format!(
                "warning: the instance name could not be checked ({why}); creating the instance will tell"
            ));
        }
        Ok(true)
    }

    /// `checkNameAvailability`: `Ok` when the name is free or the instance is ours; a 403 (the
    /// caller may not check at the subscription, e.g. an owner of one resource group) is
    /// reported as a warning and the PUT that follows is the real test.
    async fn check_name(&self, t: &Target, location: &str) -> Result<NameCheck, StepError> {
        let arm = self.ctx.arm();
        let check =
            json!({ "name": t.name, "type": "Microsoft.DigitalTwins/digitalTwinsInstances" });
        let path = format!(
            "/subscriptions/{}/providers/Microsoft.DigitalTwins/locations/{}/checkNameAvailability",
            t.sub,
            location.replace(' ', "").to_ascii_lowercase()
        );
        let answer = match arm.post(&path, API_VERSION, Some(&check)).await {
            Ok(answer) => answer,
            Err(e) if e.is_forbidden() => return Ok(NameCheck::NotAllowed(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        if answer.body.get("nameAvailable").and_then(Value::as_bool) != Some(false) {
            return Ok(NameCheck::Free);
        }
        if arm.get_optional(&t.path, API_VERSION).await?.is_some() {
            return Ok(NameCheck::Ours); // our own instance: a rerun updates it
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

    /// Before an update of an existing instance: asks for confirmation when it takes away an
    /// identity that endpoints use (see [`identity::disabling_warning`]).
    async fn identity_preflight(
        &self,
        ctx: &StepContext,
        t: &Target,
        with: &Value,
    ) -> Result<(), StepError> {
        let Some(wanted) = identity::desired(with) else {
            return Ok(());
        };
        let arm = self.ctx.arm();
        let Some(live) = arm.get_optional(&t.path, API_VERSION).await? else {
            return Ok(());
        };
        let next = identity::for_update(live.body.get("identity"), &wanted, with);
        if let Some(warning) = identity::disabling_warning(
            &arm,
            &t.path,
            API_VERSION,
            live.body.get("identity"),
            &next,
        )
        .await?
        {
            ctx.ask_confirmation(warning);
        }
        Ok(())
    }

    /// Every user-assigned identity the plan names must exist: ARM refuses the instance
    /// otherwise, and this says so before anything is written.
    async fn check_user_identities(&self, with: &Value) -> Result<(), StepError> {
        let arm = self.ctx.arm();
        for id in with
            .get("user_assigned_identities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if arm.get_optional(id, identity::API_VERSION).await?.is_none() {
                return Err(StepError::rejected(format!(
                    "user-assigned identity {id} does not exist"
                ))
                .with_help(format!(
                    "create it first (az identity create -g <group> -n {}), or fix the id in `user_assigned_identities`",
                    super::name_of(id)
                )));
            }
        }
        Ok(())
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
    ) -> Result<Outputs, StepError> {
        let what = format!("digital twins instance {name}");
        let body = wait_for(&self.ctx, ctx, token, &what).await?;
        Ok(outputs_of(&body))
    }
}

/// The schema of `DigitalTwinsInstanceKind` steps: name, fields, outputs, comparison; needs no connection.
pub struct DigitalTwinsInstanceSchema;

impl KindSchema for DigitalTwinsInstanceSchema {
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
                "user_assigned_identities",
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
        identity::validate(&mut c);
        c.optional_enum("public_network_access", &["Enabled", "Disabled"]);
        c.optional_str("subscription_id", "a subscription id (GUID)");
        c.errors
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        IDENTIFYING
    }
}

#[async_trait]
impl StepKind for DigitalTwinsInstanceKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &DigitalTwinsInstanceSchema
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        if twinup_engine::contains_unknown(with) {
            return Ok(()); // names come from earlier steps; checked at apply time
        }
        let t = self.target(with)?;
        self.ctx.targets.insert(ctx.step_id(), &t.path);
        let location = fields::string(with, "location")?;
        if let Some(r) = self.replacement(ctx, with) {
            super::refuse_foreign_move(&r)?;
            if r.deletes_first {
                // The name is held by the instance this deployment made; `apply` deletes it
                // before creating the new one.
                return Ok(());
            }
        }
        if !self.registration_preflight(ctx, &t.sub).await? {
            return Ok(()); // the name is checked once the provider is registered
        }
        // The name check comes first: a free name means the instance does not exist (names are
        // global), so only a taken name costs a read, to tell our own instance from another's.
        match self.check_name(&t, &location).await? {
            NameCheck::Free => {
                if let Ok(mut absent) = self.absent.lock() {
                    absent.insert(t.path.to_ascii_lowercase());
                }
            }
            NameCheck::Ours => self.identity_preflight(ctx, &t, with).await?,
            NameCheck::NotAllowed(why) => {
                ctx.progress(format!(
                    "warning: the instance name could not be checked ({why}); creating the instance will tell"
                ));
                self.identity_preflight(ctx, &t, with).await?;
            }
        }
        self.check_user_identities(with).await
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        let t = self.target(with).ok()?;
        let location = fields::string(with, "location").ok()?;
        super::arm_replacement(ctx, "digital twins instance", &t.path, &location, true)
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let t = self.target(with)?;
        let location = fields::string(with, "location")?;
        let desired = desired_body(with, &location);
        let arm = self.ctx.arm();
        let resource_url = arm.url(&t.path, API_VERSION, &[])?;
        let replacing = self.replacement(ctx, with);
        if let Some(r) = &replacing
            && r.deletes_first
        {
            // The same (global) name elsewhere: the instance this deployment created goes
            // first, as confirmed; then it is created where the plan says.
            super::refuse_foreign_move(r)?;
            let old = super::recorded_id(ctx).unwrap_or_else(|| t.path.clone());
            let what = format!(
                "digital twins instance {} (replaced: it moves to {location})",
                t.name
            );
            delete_arm(&self.ctx, ctx, &old, API_VERSION, None, &what).await?;
        }
        // Found absent by this run's preflight moments ago: no second read before creating.
        let registered_now = self.register_provider(ctx, &t, &location, false).await?;
        let known_absent = (self.take_absent(&t.path) || registered_now)
            && !ctx.was_creating()
            && ctx.previous_outputs().is_none();
        let live = if known_absent {
            None
        } else {
            match arm.get_optional(&t.path, API_VERSION).await {
                // Preflight did not see it (a resumed run): register now, then read again.
                Err(e) if e.has_code(providers::MISSING_REGISTRATION) => {
                    self.register_provider(ctx, &t, &location, true).await?;
                    arm.get_optional(&t.path, API_VERSION).await?
                }
                other => other?,
            }
        };
        let found = live.is_some();
        let mut update = None;
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
            let mut live_body = live.body;
            if let Some(state) = lro::provisioning_state(&live_body)
                && !lro::is_terminal(state)
            {
                // Something (a previous run without a saved token, someone else) is still
                // working on it: wait, then compare what it ended as with the plan.
                let token = LroToken {
                    operation_url: resource_url.to_string(),
                    kind: LroKind::ResourceState,
                    resource_url: resource_url.to_string(),
                    method: "PUT".into(),
                    started_at: chrono::Utc::now(),
                    retry_after_ms: None,
                };
                ctx.save_resume_token(token.to_value()).await?;
                let what = format!("digital twins instance {}", t.name);
                live_body = wait_for(&self.ctx, ctx, &token, &what).await?;
            }
            if matches(&live_body, &desired, with) {
                ctx.progress(format!("digital twins instance {} is up to date", t.name));
                return Ok(Applied::existing(outputs_of(&live_body)));
            }
            ctx.progress(format!("updating digital twins instance {}", t.name));
            update = Some(update_body(&live_body, &desired, with));
        } else {
            ctx.progress(format!(
                "creating digital twins instance {} in {}",
                t.name, t.group
            ));
        }
        let initial = arm
            .put(&t.path, API_VERSION, update.as_ref().unwrap_or(&desired))
            .await?;
        let what = format!("digital twins instance {}", t.name);
        let outputs = match lro::start(&Method::PUT, &resource_url, initial, &what)? {
            Started::Done(response) => {
                if response.body.pointer("/properties/hostName").is_some() {
                    outputs_of(&response.body)
                } else {
                    outputs_of(&arm.get(&t.path, API_VERSION).await?.body)
                }
            }
            Started::Pending(token) => {
                ctx.save_resume_token(token.to_value()).await?;
                self.wait(ctx, &token, &t.name).await?
            }
        };
        Ok(Applied::created_if(!found, outputs))
    }

    async fn resume(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: &Value,
    ) -> Result<Applied, StepError> {
        let t = self.target(with)?;
        match LroToken::from_value(token) {
            // Not the delete of a replacement in flight (apply deletes and creates again).
            Ok(token) if !token.method.eq_ignore_ascii_case("DELETE") => {
                ctx.progress(format!(
                    "resuming the wait for digital twins instance {}",
                    t.name
                ));
                // A resumed create is this step's own work unless an earlier run found it.
                Ok(Applied::resumed(self.wait(ctx, &token, &t.name).await?))
            }
            _ => self.apply(ctx, with).await,
        }
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        // `verify` and the refresh read the instance the step recorded.
        let path = match super::recorded_id(ctx) {
            Some(id) if ctx.read_at_record() => id,
            _ => self.target(with)?.path,
        };
        let live = match self.ctx.arm().get_optional(&path, API_VERSION).await {
            // A subscription not registered for Digital Twins has no instance.
            Err(e) if e.has_code(providers::MISSING_REGISTRATION) => None,
            other => other?,
        };
        Ok(match live {
            None => LiveState::Absent,
            Some(r) => {
                let (system, users) = identity::live_properties(r.body.get("identity"), with);
                LiveState::Present {
                    properties: json!({
                        "location": r.body.get("location"),
                        "tags": tags::as_planned(&tags::planned(with), &tags::live(&r.body)),
                        "identity": system,
                        "user_assigned_identities": users,
                        "public_network_access": r.body.pointer("/properties/publicNetworkAccess"),
                        "provisioning_state": lro::provisioning_state(&r.body),
                        "host_name": r.body.pointer("/properties/hostName").and_then(Value::as_str).map(host_url),
                    }),
                }
            }
        })
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
        assert!(matches(&live, &desired, &with));
        let mut other = live.clone();
        other["tags"] = json!({"a": "2"});
        assert!(!matches(&other, &desired, &with));
        // Unspecified fields are not compared; tags others set are not a difference.
        assert!(matches(
            &live,
            &desired_body(&json!({}), "westeurope"),
            &json!({})
        ));
        let mut shared = live.clone();
        shared["tags"] = json!({"a": "1", "costcenter": "42"});
        assert!(matches(&shared, &desired, &with));
    }

    #[test]
    fn an_update_keeps_what_the_plan_does_not_set() {
        let live = json!({
            "id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.DigitalTwins/digitalTwinsInstances/x",
            "name": "x", "type": "Microsoft.DigitalTwins/digitalTwinsInstances", "location": "westus2",
            "tags": {"costcenter": "42"},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {"provisioningState": "Succeeded", "hostName": "x.api", "createdTime": "c",
                "publicNetworkAccess": "Enabled", "privateEndpointConnections": [{"id": "pe"}]}
        });
        let with = json!({"tags": {"env": "prod"}, "public_network_access": "Disabled"});
        let desired = desired_body(&with, "westus2");
        let body = update_body(&live, &desired, &with);
        assert_eq!(body["tags"], json!({"costcenter": "42", "env": "prod"}));
        assert_eq!(body["identity"], json!({"type": "SystemAssigned"}));
        assert_eq!(body["properties"]["publicNetworkAccess"], "Disabled");
        assert_eq!(
            body["properties"]["privateEndpointConnections"][0]["id"],
            "pe"
        );
        assert!(body.get("id").is_none() && body["properties"].get("hostName").is_none());
    }
}
