//! `azure.api_permissions_manifest`: writes the `requiredResourceAccess` manifest that gives a
//! client app the Azure Digital Twins data-plane scope (the samples' manifest.json). Local only.

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::{
    CREATED_OUTPUT, FieldError, LiveState, Outputs, StepContext, StepError, StepKind, created_flag,
};

use twinup_engine::kinds::local_path;

use super::fields::{self, Checker};

/// App id of the Azure Digital Twins service (resource of the data-plane scope).
pub const ADT_RESOURCE_APP_ID: &str = "0b07f429-9f4b-4714-9392-cc5e8e80c8b0";
/// Id of the ADT delegated permission (`user_impersonation`-style scope).
pub const ADT_SCOPE_ID: &str = "4589bd03-58cb-4e6c-b17f-b580e39652f8";

/// The manifest value.
pub fn manifest() -> Value {
    json!([{
        "resourceAppId": ADT_RESOURCE_APP_ID,
        "resourceAccess": [{ "id": ADT_SCOPE_ID, "type": "Scope" }]
    }])
}

fn manifest_bytes() -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(&manifest()).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// The `azure.api_permissions_manifest` kind.
pub struct ApiPermissionsManifestKind;

#[async_trait]
impl StepKind for ApiPermissionsManifestKind {
    fn name(&self) -> &'static str {
        "azure.api_permissions_manifest"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["path", "manifest"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(self.name(), with, &["path"]);
        c.required_str(
            "path",
            "where to write the manifest, e.g. `path: manifest.json`",
        );
        c.errors
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Outputs, StepError> {
        let path = std::path::PathBuf::from(fields::string(with, "path")?);
        let bytes = manifest_bytes();
        let created = created_flag(ctx, path.exists());
        if !path.exists() {
            ctx.note_creating().await?;
        }
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            ctx.progress(format!("writing {}", path.display()));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StepError::failed(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            std::fs::write(&tmp, &bytes)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| {
                    StepError::failed(format!("cannot write {}: {e}", path.display()))
                        .with_help("check that the directory is writable")
                })?;
        }
        let target = local_path::absolute(&path)?;
        Ok(fields::outputs(json!({
            "path": path.display().to_string(),
            "manifest": manifest(),
            CREATED_OUTPUT: created,
            local_path::TARGET_OUTPUT: target.display().to_string(),
        })))
    }

    fn normalize(&self, field: &str, value: &Value) -> Value {
        super::compare::normalize(field, value)
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        &["path"]
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let path = fields::string(with, "path")?;
        // `verify` and the refresh read the file the step recorded writing.
        let read_at = match local_path::recorded_target(ctx.previous_outputs()) {
            Some(recorded) if ctx.read_at_record() => recorded,
            _ => std::path::PathBuf::from(&path),
        };
        Ok(match std::fs::read(&read_at) {
            Ok(bytes) => LiveState::Present {
                properties: json!({
                    "path": path,
                    "manifest": serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
                }),
            },
            Err(_) => LiveState::Absent,
        })
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        // The file the step recorded writing, never a re-render of the current plan.
        let path = match local_path::recorded_target(ctx.previous_outputs()) {
            Some(recorded) => recorded,
            None => std::path::PathBuf::from(fields::string(with, "path")?),
        };
        twinup_engine::kinds::remove_file(ctx, &path)
    }
}
