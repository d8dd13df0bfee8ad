//! The `file` step kind: writes rendered content to a path (e.g. a client app's settings file
//! holding the deployment's outputs). A string is written as-is; any other value as JSON. The
//! path stays inside the working directory unless `outside_workdir: true`; no symlink is
//! followed or replaced; a file the step did not create is overwritten only with
//! `overwrite: true` (and then kept by `down`). The absolute path written is recorded
//! (`target`), and `down` removes that file, whatever the plan says now.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::local_path::{self, Found, TARGET_OUTPUT, check_path, check_target, recorded_target};
use crate::context::StepContext;
use crate::kind::{FieldError, KindSchema, LiveState, Replacement, StepError, StepKind};
use crate::origin::{Applied, created_by_step};

/// Writes a file.
pub struct FileKind;

const KNOWN_FIELDS: &[&str] = &["path", "content", "overwrite", "outside_workdir"];

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

fn flag(with: &Value, field: &str) -> bool {
    with.get(field).and_then(Value::as_bool).unwrap_or(false)
}

fn target(with: &Value) -> Result<(PathBuf, Vec<u8>), StepError> {
    let path = with
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| StepError::rejected("`path` must be a string"))?;
    if let Some(problem) = check_path(path, flag(with, "outside_workdir")) {
        return Err(
            StepError::rejected(problem.message).with_help(problem.help.unwrap_or_default())
        );
    }
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
    let mut file = std::fs::File::create(&tmp)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// The recorded file this step created, when `with` now names another one.
fn replaced_file(ctx: &StepContext, target: &Path) -> Option<PathBuf> {
    let recorded = ctx.previous_outputs();
    if recorded.and_then(created_by_step) != Some(true) {
        return None;
    }
    recorded_target(recorded).filter(|old| old != target)
}

impl KindSchema for FileKind {
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
                    .unwrap_or_else(|| {
                        "the `file` kind takes `path`, `content`, `overwrite` and `outside_workdir`"
                            .to_string()
                    });
                errors.push(FieldError::new(
                    key.clone(),
                    format!("unknown field `{key}`"),
                    hint,
                ));
            }
        }
        for field in ["overwrite", "outside_workdir"] {
            match map.get(field) {
                None | Some(Value::Bool(_)) => {}
                Some(v) if crate::is_unknown(v) => {}
                Some(_) => errors.push(FieldError::new(
                    field,
                    format!("`{field}` must be true or false"),
                    format!("write `{field}: true` or leave it out"),
                )),
            }
        }
        match map.get("path") {
            Some(v) if crate::is_unknown(v) => {} // `apply` checks it once it is known
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
            Some(Value::String(s)) => errors.extend(check_path(s, flag(with, "outside_workdir"))),
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

    fn identifying_fields(&self) -> &'static [&'static str] {
        &["path"]
    }
}

#[async_trait]
impl StepKind for FileKind {
    fn schema(&self) -> &'static dyn KindSchema {
        &FileKind
    }

    async fn preflight(&self, ctx: &StepContext, with: &Value) -> Result<(), StepError> {
        if with.get("path").is_none_or(|p| !p.is_string()) {
            return Ok(()); // known once earlier steps ran; `apply` checks it then
        }
        let (path, bytes) = target(with)?;
        let absolute = local_path::absolute(&path)?;
        check_target(ctx, &path, &absolute, flag(with, "overwrite"), &bytes).map(|_| ())
    }

    fn replacement(&self, ctx: &StepContext, with: &Value) -> Option<Replacement> {
        let (path, _) = target(with).ok()?;
        let absolute = local_path::absolute(&path).ok()?;
        let old = replaced_file(ctx, &absolute)?;
        Some(Replacement {
            from: old.display().to_string(),
            to: absolute.display().to_string(),
            deletes_old: true,
            deletes_first: false,
        })
    }

    async fn apply(&self, ctx: &StepContext, with: &Value) -> Result<Applied, StepError> {
        let (path, bytes) = target(with)?;
        let absolute = local_path::absolute(&path)?;
        let found = check_target(ctx, &path, &absolute, flag(with, "overwrite"), &bytes)?;
        if matches!(found, Found::Absent) {
            ctx.note_creating().await?;
        }
        if !matches!(found, Found::Same) {
            ctx.progress(format!("writing {}", path.display()));
            // The fsync blocks; it runs off the async workers so other steps keep going.
            let (to, content) = (path.clone(), bytes.clone());
            let written = tokio::task::spawn_blocking(move || write_atomically(&to, &content))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            written.map_err(|e| {
                StepError::failed(format!("cannot write {}: {e}", path.display()))
                    .with_help("check that the directory exists and is writable")
            })?;
        }
        let digest = hex::encode(Sha256::digest(&bytes));
        let outputs = json!({
            "path": path.display().to_string(),
            "sha256": digest,
            TARGET_OUTPUT: absolute.display().to_string(),
        });
        let outputs = outputs.as_object().cloned().unwrap_or_default();
        // `check_target` judged the record itself: a file it calls foreign is not the step's,
        // whatever the record says.
        Ok(match found {
            Found::Absent | Found::Ours => Applied::created(outputs),
            Found::Foreign => Applied::not_ours(outputs)
                .because("the file existed before this deployment; written with `overwrite: true`"),
            Found::Same => Applied::not_ours(outputs).because(
                "the file existed before this deployment with this content; used as it is",
            ),
        })
    }

    async fn read(&self, ctx: &StepContext, with: &Value) -> Result<LiveState, StepError> {
        let (path, _) = target(with)?;
        // `verify`, the refresh and a step with unchanged inputs read where the step wrote;
        // `preview` of changed inputs where the plan now points.
        let read_at = if ctx.read_at_record() {
            recorded_target(ctx.previous_outputs()).unwrap_or_else(|| path.clone())
        } else {
            path.clone()
        };
        match std::fs::read(&read_at) {
            Ok(bytes) => Ok(LiveState::Present {
                properties: json!({"path": path.display().to_string(), "sha256": hex::encode(Sha256::digest(&bytes))}),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LiveState::Absent),
            Err(e) => Err(StepError::failed(format!(
                "cannot read {}: {e}",
                read_at.display()
            ))),
        }
    }

    async fn delete(
        &self,
        ctx: &StepContext,
        with: &Value,
        _token: Option<&Value>,
    ) -> Result<(), StepError> {
        // The file the step recorded writing, never a re-render of the current plan.
        let path = match recorded_target(ctx.previous_outputs()) {
            Some(recorded) => recorded,
            None => target(with)?.0,
        };
        remove_file(ctx, &path)
    }
}

/// Removes a file a step wrote; a file that is already gone counts as removed. A symlink is
/// never removed (twinup writes regular files only).
pub fn remove_file(ctx: &StepContext, path: &Path) -> Result<(), StepError> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(StepError::rejected(format!(
            "{} is now a symlink, not the file twinup wrote; it was left alone",
            path.display()
        ))
        .with_help("remove it by hand if it should go"));
    }
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
