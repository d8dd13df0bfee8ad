//! Where a local file step may write: inside the working directory (or the checkpoint's
//! directory, which the binary names with [`allow_root`]) unless the plan says
//! `outside_workdir: true`, never through or over a symlink, and never over a file the step did
//! not create unless the plan says `overwrite: true` (a file that already holds exactly what
//! the step writes is used as found). Also the identity a file step records (its absolute
//! path, `target` in its outputs), so `down` removes what was written, not what the plan names
//! now.

use std::path::{Component, Path, PathBuf};
use std::sync::RwLock;

use serde_json::Value;

use crate::context::StepContext;
use crate::kind::{FieldError, Outputs, StepError};
use crate::origin::created_by_step;

/// The output holding the absolute path a file step wrote.
pub const TARGET_OUTPUT: &str = "target";

/// The path with `.` and `..` resolved lexically; `None` when `..` climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(p) => {
                out.push(p);
                depth += 1;
            }
            Component::RootDir | Component::Prefix(_) => out.push(part.as_os_str()),
        }
    }
    Some(out)
}

/// Directories besides the working directory that file steps may write in (the checkpoint's).
static ALLOWED_ROOTS: RwLock<Vec<PathBuf>> = RwLock::new(Vec::new());

/// Lets file steps write inside `dir` (absolute, or from the working directory) as they may
/// inside the working directory: the binary names the local checkpoint's directory.
pub fn allow_root(dir: &Path) {
    let mut roots = Vec::new();
    if let Ok(lexical) = absolute(dir) {
        roots.push(lexical);
    }
    if let Ok(canonical) = std::fs::canonicalize(dir) {
        roots.push(canonical);
    }
    if let Ok(mut allowed) = ALLOWED_ROOTS.write() {
        for root in roots {
            if !allowed.contains(&root) {
                allowed.push(root);
            }
        }
    }
}

/// True if `path` (from the working directory) is inside a directory [`allow_root`] named.
fn in_allowed_root(path: &Path) -> bool {
    let Ok(target) = absolute(path) else {
        return false;
    };
    ALLOWED_ROOTS
        .read()
        .map(|roots| roots.iter().any(|root| target.starts_with(root)))
        .unwrap_or(false)
}

/// The validation problem with `path`, if any: outside the working directory (absolute, or
/// climbing out with `..`) and outside the checkpoint's directory while `outside_workdir` is
/// not set.
pub fn check_path(path: &str, outside_workdir: bool) -> Option<FieldError> {
    if outside_workdir {
        return None;
    }
    let p = Path::new(path);
    let escapes = p.is_absolute() || p.has_root() || normalize(p).is_none();
    (escapes && !in_allowed_root(p)).then(|| {
        FieldError::new(
            "path",
            format!("`{path}` is outside the working directory"),
            "give a path inside the working directory (e.g. `out/settings.json`) or the checkpoint's directory, or add `outside_workdir: true` to the step to allow it",
        )
    })
}

/// The absolute path `path` names, from the working directory, `.` and `..` resolved.
pub fn absolute(path: &Path) -> Result<PathBuf, StepError> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| StepError::failed(format!("cannot read the working directory: {e}")))?
            .join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

/// The first symlink on the way to `path` (a directory of it or the file itself): for a
/// relative path every component from the working directory down, for an absolute one the file.
fn symlink_on(path: &Path) -> Option<PathBuf> {
    let is_link = |p: &Path| {
        std::fs::symlink_metadata(p)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    };
    if path.is_absolute() {
        return is_link(path).then(|| path.to_path_buf());
    }
    let mut walked = PathBuf::new();
    for part in path.components() {
        walked.push(part.as_os_str());
        if matches!(part, Component::Normal(_)) && is_link(&walked) {
            return Some(walked);
        }
    }
    None
}

/// The absolute path a step recorded writing (`target`, else the `path` it wrote, from the
/// working directory, for checkpoints written before `target` existed).
pub fn recorded_target(outputs: Option<&Outputs>) -> Option<PathBuf> {
    let outputs = outputs?;
    let text = |k: &str| {
        outputs
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match text(TARGET_OUTPUT) {
        Some(t) => Some(PathBuf::from(t)),
        None => text("path").and_then(|p| absolute(Path::new(p)).ok()),
    }
}

/// What a file step found at its path before writing.
pub enum Found {
    /// Nothing there.
    Absent,
    /// A file this step created (its record says so).
    Ours,
    /// A file it did not create, which `overwrite: true` allows it to replace.
    Foreign,
    /// A file it did not create that already holds exactly what the step writes: used as it
    /// is, never changed.
    Same,
}

/// Checks, before writing `bytes`, that `path` may be written by this step; says what is
/// there.
pub fn check_target(
    ctx: &StepContext,
    path: &Path,
    target: &Path,
    overwrite: bool,
    bytes: &[u8],
) -> Result<Found, StepError> {
    if let Some(link) = symlink_on(path) {
        return Err(StepError::rejected(format!(
            "{} is a symlink; twinup does not write through or replace symlinks",
            link.display()
        ))
        .with_help("point `path` at a regular file or directory, or remove the symlink"));
    }
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(Found::Absent);
    }
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(
            StepError::rejected(format!("{} is a directory", path.display()))
                .with_help("give `path` a file name"),
        );
    }
    let recorded = ctx.previous_outputs();
    // The record says this step wrote this very file (a record from before `created` existed
    // counts: twinup wrote it).
    let ours = ctx.was_creating()
        || (recorded.is_some()
            && recorded.and_then(created_by_step) != Some(false)
            && recorded_target(recorded).as_deref() == Some(target));
    if ours {
        return Ok(Found::Ours);
    }
    if std::fs::read(path).is_ok_and(|have| have == bytes) {
        return Ok(Found::Same);
    }
    if overwrite {
        return Ok(Found::Foreign);
    }
    Err(StepError::rejected(format!(
        "{} already exists and this deployment did not create it",
        path.display()
    ))
    .with_help(
        "choose another `path`, or add `overwrite: true` to the step to replace it (twinup then records it as not created and `twinup down` keeps it)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_working_directory_are_refused_unless_allowed() {
        assert!(check_path("out/a.txt", false).is_none());
        assert!(check_path("out/../a.txt", false).is_none());
        assert!(check_path("../x", false).is_some());
        assert!(check_path("out/../../x", false).is_some());
        assert!(check_path("/etc/x", false).is_some());
        assert!(check_path("/etc/x", true).is_none());
        // Text that looks like a reference is a path like any other (an unknown path is never
        // passed here: the kind skips it).
        assert!(check_path("../${x}", false).is_some());
    }
}
