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
use twinup_engine::{KindRegistry, StepContext, StepError, StepErrorKind};

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

/// The last segment of an ARM id (the resource's name).
pub(crate) fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Normalises an ARM id or scope to start with exactly one `/`.
pub(crate) fn normalize_scope(scope: &str) -> String {
    format!("/{}", scope.trim().trim_matches('/'))
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
    use super::*;
    use crate::errors::ArmError;

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
}
