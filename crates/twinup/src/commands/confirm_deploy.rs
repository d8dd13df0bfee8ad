//! Show, then do: before `up` changes anything in a terminal, it prints the values the run
//! uses (secrets masked) with where each came from, and what it would do per step (the
//! preview: create / update / replace / no change), then asks "Deploy? [Y/n]". `--yes` skips
//! the question, `--non-interactive` and `--output json` never ask; a run with nothing to
//! change does not ask. Declining exits 2 (as declining `down` does): nothing was changed.
//!
//! Contact point: [`confirm_deploy`], called by `commands/up.rs` after preflight.

use twinup_engine::{
    Change, ExpandedPlan, InputSource, KindRegistry, ResolvedInputs, SECRET_MASK, Session, Steps,
    display_value,
};

use crate::commands::preview::describe_preview;
use crate::failure::Failure;

/// Prints the summary and asks; `Ok` to go on.
pub async fn confirm_deploy(
    plan: &ExpandedPlan,
    registry: &KindRegistry,
    inputs: &ResolvedInputs,
    session: &Session,
) -> Result<(), Failure> {
    let items =
        twinup_engine::preview(Steps::new(plan, registry, inputs), session.checkpoint()).await;
    if items
        .iter()
        .all(|i| matches!(i.change, Change::NoChange | Change::TurnedOff { .. }))
    {
        return Ok(());
    }
    eprintln!("{}", describe_values(inputs));
    eprint!("{}", describe_preview(&items));
    let answer = crate::prompt::confirm("Deploy?", true, "interrupted before any change was made")?;
    if answer {
        Ok(())
    } else {
        Err(Failure::bad_input(
            "not confirmed; nothing was changed (`twinup up --yes` deploys without asking)",
        ))
    }
}

/// The run's values, one per line, secrets masked, with their source.
fn describe_values(inputs: &ResolvedInputs) -> String {
    let width = inputs.values.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::from("With these values:");
    for (name, value) in &inputs.values {
        let shown = if inputs.secrets.contains(name) {
            SECRET_MASK.to_string()
        } else if value.as_str() == Some("") {
            "(empty)".to_string()
        } else {
            display_value(value)
        };
        let source = match inputs.sources.get(name) {
            Some(InputSource::Flag) => "--set",
            Some(InputSource::Environment) => "environment",
            Some(InputSource::AnswersFile) => "answers file",
            Some(InputSource::Checkpoint) => "checkpoint",
            Some(InputSource::Prompt) => "prompt",
            Some(InputSource::Discovered) => "discovered",
            Some(InputSource::Default) | None => "default",
        };
        out.push_str(&format!("\n  {name:<width$}  {shown}  ({source})"));
    }
    out
}
