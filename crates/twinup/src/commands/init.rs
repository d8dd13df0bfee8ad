//! `twinup init`: writes an answers file for a plan listing every input with its description,
//! type, default and choices as comments, ready to fill in for unattended runs.

use indexmap::IndexMap;

use crate::cli::{InitArgs, OutputFormat};
use crate::commands::answers_file::{render, write_out};
use crate::failure::Failure;
use crate::plan_source::load_plan;
use crate::registry::validation_registry;

/// Runs `twinup init`.
pub fn init(args: InitArgs, format: OutputFormat) -> Result<(), Failure> {
    let plan = load_plan(args.plan.as_deref())?;
    plan.validate(&validation_registry())?;
    let text = render(&plan, &IndexMap::new(), &[]);
    write_out(&args.out, &text, args.force, format)
}
