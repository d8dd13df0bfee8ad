//! `twinup plan`: validates the plan and shows its steps in run order, what each depends on,
//! and where each stands in the checkpoint.

use serde_json::json;
use twinup_engine::checkpoint::StepState;
use twinup_engine::load_for_plan;

use crate::checkpoint_store::checkpoint_store_for;
use crate::cli::{OutputFormat, PlanCommandArgs};
use crate::commands::connect::DISCOVERED;
use crate::failure::Failure;
use crate::plan_source::load_plan;
use crate::registry::validation_registry;

/// Runs `twinup plan`.
pub async fn plan(args: PlanCommandArgs, format: OutputFormat) -> Result<(), Failure> {
    let args = args.plan;
    let plan = load_plan(args.plan.as_deref())?;
    let registry = validation_registry();
    plan.validate(&registry)?;
    let store = checkpoint_store_for(&args.checkpoint)?;
    let checkpoint = load_for_plan(store.as_ref(), &plan).await?;
    let graph = plan.graph();
    let state_of = |id: &str| {
        checkpoint
            .as_ref()
            .and_then(|c| c.steps.get(id))
            .map(|r| r.state)
            .unwrap_or(StepState::Pending)
    };
    match format {
        OutputFormat::Json => {
            let steps: Vec<_> = graph
                .topological_order()
                .iter()
                .filter_map(|id| plan.step(id))
                .map(|s| {
                    json!({
                        "id": s.id,
                        "kind": s.kind,
                        "depends_on": graph.dependencies(&s.id),
                        "state": state_of(&s.id),
                    })
                })
                .collect();
            let azure = crate::azure_session::uses_azure(&plan);
            let inputs: Vec<_> = plan
                .inputs
                .values()
                .map(|i| {
                    // `required`: the plan gives no default; a discovered one may still be found.
                    let found = azure && DISCOVERED.contains(&i.name.as_str());
                    json!({"name": i.name, "required": i.is_required(), "found_at_sign_in": found, "secret": i.secret})
                })
                .collect();
            crate::output::print_json(
                json!({"plan": plan.name, "valid": true, "inputs": inputs, "steps": steps}),
            );
        }
        OutputFormat::Text => {
            crate::outln!("Plan `{}` ({}) is valid.", plan.name, plan.file_name());
            if let Some(d) = &plan.description {
                crate::outln!("  {d}");
            }
            crate::outln!("Steps, in run order:");
            let width = plan.steps.iter().map(|s| s.id.len()).max().unwrap_or(0);
            for id in graph.topological_order() {
                let Some(step) = plan.step(id) else { continue };
                let deps = graph.dependencies(id);
                let after = if deps.is_empty() {
                    String::new()
                } else {
                    format!("  after {}", deps.join(", "))
                };
                crate::outln!(
                    "  {:<width$}  {:<10} {}{}",
                    step.id,
                    state_of(id).to_string(),
                    step.kind,
                    after
                );
            }
            if checkpoint.is_none() {
                crate::outln!(
                    "No checkpoint at {} yet: nothing has run.",
                    store.location()
                );
            }
        }
    }
    Ok(())
}
