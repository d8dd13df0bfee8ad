//! Reads an answers file (`--answers FILE`): a YAML mapping of input name to value, checked
//! against the plan's inputs.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;
use twinup_plan::{Plan, PlanError, ReadError, parse_answers, read_bounded};

use crate::failure::Failure;

/// Reads and checks the answers file at `path`.
pub fn read_answers(path: &Path, plan: &Plan) -> Result<IndexMap<String, Value>, Failure> {
    if path.is_dir() {
        return Err(Failure::bad_input(format!(
            "--answers {}: is a directory; give a YAML file mapping input names to values",
            path.display()
        )));
    }
    let text = read_bounded(path).map_err(|e| {
        let why = match e {
            ReadError::TooLarge => return PlanError::from_read(path, e).into(),
            ReadError::Io(e) => match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            },
        };
        Failure::bad_input(format!(
            "--answers {}: cannot read it ({why}); check the path",
            path.display()
        ))
    })?;
    Ok(parse_answers(&path.display().to_string(), &text, plan)?)
}
