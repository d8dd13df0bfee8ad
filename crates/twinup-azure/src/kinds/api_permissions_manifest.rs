//! `azure.api_permissions_manifest`: writes the `requiredResourceAccess` manifest that gives a
//! client app the Azure Digital Twins data-plane scope (the samples' manifest.json). Local only:
//! a `file` step with this content, under the `file` kind's path rules (`overwrite`,
//! `outside_workdir`), record and replacement.

use async_trait::async_trait;
use serde_json::{Value, json};
use twinup_engine::kinds::FileKind;
use twinup_engine::{
    Applied, FieldError, KindSchema, LiveState, Replacement, StepContext, StepError, StepKind,
};

use super::fields::Checker;

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

/// The manifest file's text: the manifest as pretty JSON and a newline.
fn manifest_text() -> String {
    let mut text = serde_json::to_string_pretty(&manifest()).unwrap_or_default();
    text.push('\n');
    text
}

/// The fields the kind takes: where the file goes, and the `file` kind's path permissions.
const KNOWN_FIELDS: &[&str] = &["path", "overwrite", "outside_workdir"];

/// The `file` step that writes the manifest where `with` says: the file kind's path rules
/// (working or checkpoint directory, no symlinks, no overwrite of a file it did not create),
/// its recorded target and its replacement of a changed path apply to the manifest as they are.
fn as_file(with: &Value) -> Value {
    let mut file = json!({ "content": manifest_text() });
    for field in KNOWN_FIELDS {
        if let Some(value) = with.get(*field) {
            file[*field] = value.clone();
        }
    }
    file
}

/// The `azure.api_permissions_manifest` kind.
pub struct ApiPermissionsManifestKind;

impl KindSchema for ApiPermissionsManifestKind {
    fn name(&self) -> &'static str {
        "azure.api_permissions_manifest"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["path", "manifest"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut c = Checker::new(self.name(), with, KNOWN_FIELDS);
        if with.is_object() {
            c.errors.extend(FileKind.validate(&as_file(with)));
        }
        c.errors
    }

    fn identifying_fields(&self) -> &'static [&'static str] {
        FileKind.identifying_fields()
    }
}

#[async_trait]
impl StepKind for ApiPermissionsManifestKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &ApiPermissionsManifestKind
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let mut applied = FileKind.apply(ctx, &as_file(with)).await?;
        applied.outputs.insert("manifest".into(), manifest());
        Ok(applied)
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        FileKind.replacement(ctx, &as_file(with))
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        FileKind.read(ctx, &as_file(with)).await
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        token: Option<&Value>,
    ) -> Result<(), StepError> {
        // The file the step recorded writing, never a re-render of the current plan.
        FileKind.delete(ctx, &as_file(with), token).await
    }
}
