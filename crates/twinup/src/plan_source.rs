//! Which plan a command uses: `--plan FILE`, or the built-in Azure Digital Twins setup plan
//! compiled into the binary (so `twinup up` works from any directory).

use std::path::Path;

use twinup_plan::Plan;

use crate::failure::Failure;

/// The built-in plan's text.
pub const BUILTIN_PLAN: &str = include_str!("../../../plans/adt-setup.yaml");

/// The name the built-in plan is reported under in messages.
pub const BUILTIN_PLAN_NAME: &str = "<built-in>/adt-setup.yaml";

/// Loads and parses the plan the user chose.
pub fn load_plan(path: Option<&Path>) -> Result<Plan, Failure> {
    let plan = match path {
        Some(path) => {
            if path.is_dir() {
                return Err(Failure::bad_input(format!(
                    "--plan {}: is a directory; give a plan file (YAML)",
                    path.display()
                )));
            }
            Plan::load(path)?
        }
        None => Plan::parse(BUILTIN_PLAN_NAME, BUILTIN_PLAN)?,
    };
    Ok(plan)
}
