//! The `file` step kind: writes rendered content to a path (e.g. a client app's settings file
//! holding the deployment's outputs). A string is written as-is; any other value as JSON.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::context::StepContext;
use crate::kind::{
    CREATED_OUTPUT, FieldError, LiveState, Outputs, StepError, StepKind, created_flag,
};

/// Writes a file.
pub struct FileKind;

const KNOWN_FIELDS: &[&str] = &["path", "content"];

fn content_bytes(content: &Value) -> Vec<u8> {
    match content {
        Value::String(s) => s.clone().into_bytes(),
        other => {
            let mut text = serde_json::to_string_pretty(other).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        }
    }
}

fn target(with: &Value) -> Result<(PathBuf, Vec<u8>), StepError> {
    let path = with
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| StepError::rejected("`path` must be a string"))?;
    let content = with.get("content").cloned().unwrap_or(Value::Null);
    Ok((PathBuf::from(path), content_bytes(&content)))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[async_trait]
impl StepKind for FileKind {
    fn name(&self) -> &'static str {
        "file"
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["path", "sha256"]
    }

    fn validate(&self, with: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let Some(map) = with.as_object() else {
            return vec![FieldError::new(
                "",
                "`with` must be a mapping",
                "give `with: {path: ..., content: ...}`",
            )];
        };
        for key in map.keys() {
            if !KNOWN_FIELDS.contains(&key.as_str()) {
                let hint = twinup_plan::did_you_mean(key, KNOWN_FIELDS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| "the `file` kind takes `path` and `content`".to_string());
                errors.push(FieldError::new(
                    key.clone(),
                    format!("unknown field `{key}`"),
                    hint,
                ));
            }
        }
        match map.get("path") {
            None => errors.push(FieldError::new(
                "path",
                "missing field `path`",
                "add `path: <file to write>`",
            )),
            Some(Value::String(s)) if s.trim().is_empty() => errors.push(FieldError::new(
                "path",
                "`path` is empty",
                "give the file to write",
            )),
            Some(Value::String(_)) => {}
            Some(_) => errors.push(FieldError::new(
                "path",
                "`path` must be a string",
                "give the file to write, e.g. `path: out/settings.json`",
            )),
        }
        if !map.contains_key("content") {
            errors.push(FieldError::new(
                "content",
                "missing field `content`",
                "add `content:` with a string or any YAML value (written as JSON)",
            ));
        }
        errors
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Outputs, StepError> {
        let (path, bytes) = target(with)?;
        let existed = path.exists();
        ctx.progress(format!("writing {}", path.display()));
        write_atomically(&path, &bytes).map_err(|e| {
            StepError::failed(format!("cannot write {}: {e}", path.display()))
                .with_help("check that the directory exists and is writable")
        })?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let outputs = json!({
            "path": path.display().to_string(),
            "sha256": digest,
            CREATED_OUTPUT: created_flag(ctx, existed),
        });
        Ok(outputs.as_object().cloned().unwrap_or_default())
    }

    async fn read(&self, _ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let (path, _) = target(with)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(LiveState::Present {
                properties: json!({"path": path.display().to_string(), "sha256": hex::encode(Sha256::digest(&bytes))}),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LiveState::Absent),
            Err(e) => Err(StepError::failed(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        let (path, _) = target(with)?;
        remove_file(ctx, &path)
    }
}

/// Removes a file a step wrote; a file that is already gone counts as removed.
pub fn remove_file(ctx: &StepContext, path: &Path) -> Result<(), StepError> {
    ctx.progress(format!("removing {}", path.display()));
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(
            StepError::failed(format!("cannot remove {}: {e}", path.display()))
                .with_help("check the file's permissions, then run `twinup down` again"),
        ),
    }
}
