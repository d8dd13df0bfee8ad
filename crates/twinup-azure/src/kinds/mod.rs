//! The `azure.*` step kinds and what they share: the [`AzureContext`] (endpoints, HTTP client,
//! tokens, subscription, tenant), tuning, error conversion and registration with the engine.

pub mod ad_application;
pub mod ad_application_owners;
pub mod ad_application_settings;
pub mod api_permissions_manifest;
pub mod arm_resource;
pub mod compare;
pub mod data_plane_ready;
pub mod digital_twins_identity;
pub mod digital_twins_instance;
pub mod fields;
pub mod private_link;
pub mod resource_group;
pub mod role_assignment;
pub mod tags;
pub mod targets;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use twinup_engine::{
    KindRegistry, KindSchemas, Replacement, StepContext, StepError, StepErrorKind,
};

use crate::arm::ArmClient;
use crate::cloud::Endpoints;
use crate::credential::TokenProvider;
use crate::errors::AzureError;
use crate::graph::GraphClient;
use crate::http::HttpClient;
use crate::lro::PollOptions;

/// Timing knobs of the step kinds (shortened in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSettings {
    /// Limits of waiting for long-running operations.
    pub poll: PollOptions,
    /// How long a role assignment keeps retrying `PrincipalNotFound` (directory replication).
    pub principal_wait: Duration,
    /// First wait between `PrincipalNotFound` retries (doubles, capped at 30 s).
    pub principal_retry_interval: Duration,
    /// How long a resource provider registration is waited for.
    pub registration_wait: Duration,
    /// First wait between registration checks (doubles, capped at 15 s).
    pub registration_interval: Duration,
    /// Whether `azure.digital_twins_data_plane_ready` waits for the data plane (`up
    /// --no-wait-ready` turns it off).
    pub wait_ready: bool,
    /// First wait between data-plane checks (doubles up to `ready_interval_cap`).
    pub ready_interval: Duration,
    /// Longest wait between data-plane checks.
    pub ready_interval_cap: Duration,
    /// Where instance host names resolve to instead of DNS (the emulator), if anywhere.
    pub data_plane_route: Option<data_plane_ready::DataPlaneRoute>,
}

impl Default for KindSettings {
    fn default() -> Self {
        KindSettings {
            poll: PollOptions::default(),
            principal_wait: Duration::from_secs(300),
            principal_retry_interval: Duration::from_secs(5),
            registration_wait: Duration::from_secs(600),
            registration_interval: Duration::from_secs(2),
            wait_ready: true,
            ready_interval: Duration::from_millis(500),
            ready_interval_cap: Duration::from_secs(10),
            data_plane_route: None,
        }
    }
}

/// What every Azure step kind needs.
#[derive(Debug, Clone)]
pub struct AzureContext {
    /// Cloud endpoints.
    pub endpoints: Endpoints,
    /// The run's one HTTP client.
    pub http: HttpClient,
    /// Token source (cached per scope).
    pub token_provider: Arc<dyn TokenProvider>,
    /// Default subscription for steps that do not name one.
    pub subscription_id: Option<String>,
    /// Tenant id.
    pub tenant_id: String,
    /// The signed-in principal (object id and type, from its token), when known: a role
    /// assigned to it needs no directory lookup.
    pub signed_in: Option<crate::graph::DirectoryObject>,
    /// What the run's steps target, as their preflights learn it.
    pub targets: Arc<targets::PlannedTargets>,
    /// Timing knobs.
    pub settings: KindSettings,
}

impl AzureContext {
    /// An ARM client.
    pub fn arm(&self) -> ArmClient {
        ArmClient::new(
            self.http.clone(),
            &self.endpoints,
            self.token_provider.clone(),
        )
    }

    /// A Graph client.
    pub fn graph(&self) -> Result<GraphClient, StepError> {
        GraphClient::new(
            self.http.clone(),
            &self.endpoints,
            self.token_provider.clone(),
        )
        .map_err(StepError::from)
    }

    /// The subscription for a step: `with.subscription_id`, else the run's default.
    pub fn subscription(&self, with: &Value) -> Result<String, StepError> {
        fields::opt_string(with, "subscription_id")
            .or_else(|| self.subscription_id.clone())
            .ok_or_else(|| {
                StepError::rejected("no Azure subscription was chosen")
                    .with_help("pass --subscription <id>, set AZURE_SUBSCRIPTION_ID, or add `subscription_id` to the step")
            })
    }
}

impl From<AzureError> for StepError {
    fn from(error: AzureError) -> Self {
        let message = error.to_string();
        match &error {
            AzureError::Config { .. } => StepError::rejected(message),
            AzureError::OperationTimeout { .. } => StepError {
                kind: StepErrorKind::TimedOut,
                code: None,
                message,
                help: Some("run twinup again to keep waiting".into()),
            },
            AzureError::Arm(e) => {
                // The code and the hint have their own fields; the message says the rest.
                let mut out = StepError::failed(e.summary());
                if !e.code.is_empty() {
                    out = out.with_code(e.code.clone());
                }
                if let Some(h) = e.hint() {
                    out = out.with_help(h);
                }
                out
            }
            AzureError::Graph(e) => StepError::failed(message).with_code(e.code.clone()),
            AzureError::OperationFailed { code, .. } => StepError::failed(message).with_code(code.clone()),
            AzureError::NoCredential { .. } | AzureError::Credential { .. } => StepError::failed(message)
                .with_help("sign in with `az login` or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET"),
            _ => StepError::failed(message),
        }
    }
}

/// Runs `work` unless the user interrupts the run first (the resume token stays saved).
pub(crate) async fn interruptible<T>(
    ctx: &StepContext,
    work: impl std::future::Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    tokio::select! {
        result = work => result,
        _ = ctx.cancellation().cancelled() => Err(StepError::interrupted()),
    }
}

/// Waits for a long-running operation, reporting progress, until it ends or the run is interrupted.
pub(crate) async fn wait_for(
    azure: &AzureContext,
    ctx: &StepContext,
    token: &crate::lro::LroToken,
    what: &str,
) -> Result<Value, StepError> {
    let arm = azure.arm();
    let progress = progress_fn(ctx);
    let poll = async {
        crate::lro::poll_until_done(&arm, token, &azure.settings.poll, what, &progress)
            .await
            .map_err(StepError::from)
    };
    interruptible(ctx, poll).await
}

/// Forwards LRO progress lines to the step's progress events.
pub(crate) fn progress_fn(ctx: &StepContext) -> impl Fn(&str) + Send + Sync + '_ {
    move |line: &str| ctx.progress(line.to_string())
}

/// Deletes an ARM resource and waits until it is gone (a long-running delete saves its
/// operation token first, so an interrupted `twinup down` resumes the wait). `token` is the
/// token an interrupted delete saved. A resource that is already gone counts as deleted.
pub(crate) async fn delete_arm(
    azure: &AzureContext,
    ctx: &StepContext,
    path: &str,
    api_version: &str,
    token: Option<&Value>,
    what: &str,
) -> Result<(), StepError> {
    if let Some(token) = token.and_then(|t| crate::lro::LroToken::from_value(t).ok()) {
        ctx.progress(format!("resuming the delete of {what}"));
        wait_for(azure, ctx, &token, what).await?;
        return Ok(());
    }
    let arm = azure.arm();
    let url = arm.url(path, api_version, &[])?;
    ctx.progress(format!("deleting {what}"));
    let initial = match arm.delete(path, api_version).await {
        Ok(response) => response,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match crate::lro::start(&reqwest::Method::DELETE, &url, initial, what)? {
        crate::lro::Started::Done(_) => Ok(()),
        crate::lro::Started::Pending(token) => {
            ctx.save_resume_token(token.to_value()).await?;
            wait_for(azure, ctx, &token, what).await.map(|_| ())
        }
    }
}

/// The ARM id the step's record holds (`id` in its outputs): what `down` deletes, whatever the
/// plan names now.
pub(crate) fn recorded_id(ctx: &StepContext) -> Option<String> {
    ctx.previous_outputs()
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .filter(|id| id.to_ascii_lowercase().starts_with("/subscriptions/"))
        .map(normalize_scope)
}

/// When `with` names another ARM resource (`path` in `location`) than the one the step
/// recorded (`id` and `location` in its outputs), what replaces what: another name or group is
/// a new resource, created before the recorded one is deleted; the same name in another
/// location (ARM cannot move it, and the name cannot exist twice) deletes the old one first,
/// and so does the same name in another group for a type whose names are global (`global`:
/// a Digital Twins instance's name is its host name). The old one is deleted only if the step
/// created it. `what` names the type for a person.
pub(crate) fn arm_replacement(
    ctx: &StepContext,
    what: &str,
    path: &str,
    location: &str,
    global: bool,
) -> Option<Replacement> {
    let old_id = recorded_id(ctx)?;
    let recorded = ctx.previous_outputs()?;
    let old_location = recorded
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty());
    let same_id = old_id.eq_ignore_ascii_case(&normalize_scope(path));
    let moved = old_location.is_some_and(|l| !resource_group::same_location(l, location));
    if same_id && !moved {
        return None;
    }
    let at = |l: Option<&str>| l.map(|l| format!(" in {l}")).unwrap_or_default();
    Some(Replacement {
        from: format!("{what} {}{}", name_of(&old_id), at(old_location)),
        to: format!("{what} {}{}", name_of(path), at(Some(location))),
        deletes_old: twinup_engine::created_by_step(recorded) == Some(true),
        deletes_first: same_id || (global && name_of(&old_id).eq_ignore_ascii_case(name_of(path))),
    })
}

/// A same-name move of a target the step did not create: Azure cannot move it and twinup
/// never deletes what it did not make, so the run is refused before anything is written.
pub(crate) fn refuse_foreign_move(r: &Replacement) -> Result<(), StepError> {
    if r.deletes_first && !r.deletes_old {
        return Err(StepError::rejected(format!(
            "{} was not created by this deployment, and the plan now names {}: Azure cannot move it there and the name cannot exist twice",
            r.from, r.to
        ))
        .with_help("set the location back, or choose another name (twinup then makes a new one and keeps this one)"));
    }
    Ok(())
}

/// The refusal of a step turned off while an earlier, unfinished attempt was making `what`:
/// turning it off now would forget whatever that attempt made, which nothing would delete.
pub(crate) fn unfinished_create(what: &str) -> StepError {
    StepError::rejected(format!(
        "{what} was still being made when an earlier run stopped; turning it off now would leave what that run made behind, unrecorded"
    ))
    .with_help("run `twinup up` once with the inputs as they were, to finish it; then turn it off (up deletes what it made once you confirm), or run `twinup down`")
}

/// The last segment of an ARM id (the resource's name).
pub(crate) fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Normalises an ARM id or scope to start with exactly one `/`.
pub(crate) fn normalize_scope(scope: &str) -> String {
    format!("/{}", scope.trim().trim_matches('/'))
}

/// Adds the schema of every `azure.*` kind to `schemas`: enough to validate a plan, with no
/// client, token or network.
pub fn register_schemas(schemas: &mut KindSchemas) {
    schemas.register(&resource_group::ResourceGroupSchema);
    schemas.register(&digital_twins_instance::DigitalTwinsInstanceSchema);
    schemas.register(&role_assignment::RoleAssignmentSchema);
    schemas.register(&api_permissions_manifest::ApiPermissionsManifestKind);
    schemas.register(&ad_application::AdApplicationSchema);
    schemas.register(&data_plane_ready::DataPlaneReadySchema);
    schemas.register(&private_link::PrivateLinkSchema);
    schemas.register(&arm_resource::ArmResourceSchema);
}

/// Adds every `azure.*` kind to `registry`, sharing `context`.
pub fn register_kinds(registry: &mut KindRegistry, context: AzureContext) {
    let context = Arc::new(context);
    registry.register(Arc::new(resource_group::ResourceGroupKind::new(
        context.clone(),
    )));
    registry.register(Arc::new(
        digital_twins_instance::DigitalTwinsInstanceKind::new(context.clone()),
    ));
    registry.register(Arc::new(role_assignment::RoleAssignmentKind::new(
        context.clone(),
    )));
    registry.register(Arc::new(
        api_permissions_manifest::ApiPermissionsManifestKind,
    ));
    registry.register(Arc::new(ad_application::AdApplicationKind::new(
        context.clone(),
    )));
    registry.register(Arc::new(data_plane_ready::DataPlaneReadyKind::new(
        context.clone(),
    )));
    registry.register(Arc::new(private_link::PrivateLinkKind::new(
        context.clone(),
    )));
    registry.register(Arc::new(arm_resource::ArmResourceKind::new(context)));
}

#[cfg(test)]
mod tests {
    use twinup_plan::KindCatalog;

    use super::*;
    use crate::errors::ArmError;

    /// A context whose record is a resource `id` in `location`, created or found.
    fn recorded(id: &str, location: &str, created: bool) -> StepContext {
        struct NoTokens;
        #[async_trait::async_trait]
        impl twinup_engine::TokenRecorder for NoTokens {
            async fn record_token(&self, _: &str, _: Value) -> Result<(), StepError> {
                Ok(())
            }
        }
        let outputs = serde_json::json!({"id": id, "location": location, "created": created});
        StepContext::new(
            "s",
            outputs.as_object().cloned(),
            Arc::new(NoTokens),
            Arc::new(twinup_engine::NoEvents),
            tokio_util::sync::CancellationToken::new(),
        )
    }

    #[test]
    fn which_arm_changes_are_replacements_and_in_which_order() {
        let old = "/subscriptions/s/resourceGroups/rg/providers/T/x/adt";
        let ctx = recorded(old, "westus2", true);
        assert_eq!(arm_replacement(&ctx, "i", old, "West US 2", true), None);
        let renamed = arm_replacement(&ctx, "i", &old.replace("adt", "adt2"), "westus2", true)
            .expect("a new name is a replacement");
        assert!(renamed.deletes_old && !renamed.deletes_first);
        let moved = arm_replacement(&ctx, "i", old, "eastus", false).expect("a new location");
        assert!(moved.deletes_first, "the same name cannot exist twice");
        let other_group = old.replace("/rg/", "/rg2/");
        let global = arm_replacement(&ctx, "i", &other_group, "westus2", true).expect("moved");
        assert!(global.deletes_first, "a global name in another group");
        let local = arm_replacement(&ctx, "g", &other_group, "westus2", false).expect("moved");
        assert!(!local.deletes_first);
        let found = recorded(old, "westus2", false);
        let kept = arm_replacement(&found, "i", old, "eastus", false).expect("moved");
        assert!(!kept.deletes_old && refuse_foreign_move(&kept).is_err());
    }

    /// An ARM failure shows its code and its hint once: in the step error's own fields, not
    /// again inside the message.
    #[test]
    fn an_arm_failure_becomes_a_step_error_that_says_each_thing_once() {
        let arm = ArmError {
            status: 403,
            code: "AuthorizationFailed".into(),
            message: "no access".into(),
            request_id: Some("r-1".into()),
            method: "PUT".into(),
            path: "/subscriptions/s/resourceGroups/g".into(),
        };
        let hint = arm.hint().expect("a hint for AuthorizationFailed");
        let error = StepError::from(AzureError::Arm(Box::new(arm)));
        assert_eq!(error.code.as_deref(), Some("AuthorizationFailed"));
        assert_eq!(error.help.as_deref(), Some(hint.as_str()));
        assert_eq!(
            error.message,
            "PUT /subscriptions/s/resourceGroups/g failed with HTTP 403: no access [request id r-1]"
        );
    }

    #[test]
    fn validation_knows_every_kind_a_run_can_connect() {
        let mut schemas = KindSchemas::new();
        register_schemas(&mut schemas);
        let http = HttpClient::new(&crate::http::HttpConfig::default()).unwrap();
        let endpoints = crate::cloud::Cloud::Public.endpoints().unwrap();
        let tokens = crate::credential::provider_for(
            &crate::cloud::Cloud::Public,
            &http,
            &crate::credential::ChainSettings::default(),
        )
        .unwrap();
        let mut registry = KindRegistry::new();
        register_kinds(
            &mut registry,
            AzureContext {
                endpoints,
                http,
                token_provider: tokens,
                subscription_id: None,
                tenant_id: String::new(),
                signed_in: None,
                targets: Default::default(),
                settings: KindSettings::default(),
            },
        );
        assert_eq!(schemas.kind_names(), registry.kind_names());
        for name in registry.kind_names() {
            let schema = schemas.schema(&name).unwrap();
            assert_eq!(
                schema.outputs(),
                registry.get(&name).unwrap().schema().outputs()
            );
        }
    }
}
