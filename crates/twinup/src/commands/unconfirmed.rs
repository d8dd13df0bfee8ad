//! When `up` stops at validation or preflight, before changing anything: which inputs the
//! problems blame, a hint per input saying how to change it (by where its value came from),
//! and, after a guided run, the answers typed at the prompts kept in the checkpoint as
//! unconfirmed so the next run asks again only for the blamed ones.
//!
//! Contact point: [`keep_answers`], called by `commands/up.rs` with the failure.

use serde_json::Value;
use twinup_engine::checkpoint::UnconfirmedInputs;
use twinup_engine::{ExpandedPlan, InputSource, ResolvedInputs, Session, env_var_for};
use twinup_plan::Reference;

use crate::failure::Failure;

/// What [`keep_answers`] works from: the plan, the run's inputs, whether the answers are kept
/// (a guided run) and the command that runs again.
pub type Kept<'a> = (&'a ExpandedPlan, &'a ResolvedInputs, bool, &'a str);

/// Adds to `failure` (a bad-input failure of validation or preflight) which inputs it blames
/// and how to change each; in a guided run, writes the prompt answers into the checkpoint as
/// unconfirmed first (with what else the session holds in memory, e.g. the cloud).
pub async fn keep_answers(
    session: &mut Session,
    (plan, inputs, keep, rerun): Kept<'_>,
    failure: Failure,
) -> Failure {
    let blamed = blamed_inputs(plan, inputs, &failure);
    let mut failure = failure;
    let typed: Vec<(&String, &Value)> = inputs
        .values
        .iter()
        .filter(|(name, _)| {
            inputs.sources.get(*name) == Some(&InputSource::Prompt)
                && !inputs.secrets.contains(name)
        })
        .collect();
    let mut hints = Vec::new();
    for name in &blamed {
        let hint = match inputs.sources.get(name) {
            Some(InputSource::Prompt) if keep => continue,
            Some(InputSource::Flag) => format!("change `--set {name}=...`"),
            Some(InputSource::Environment) => format!("change {}", env_var_for(name)),
            Some(InputSource::AnswersFile) => format!("change `{name}` in the answers file"),
            _ => format!(
                "give another value with `--set {name}=...` (or rerun with --reconfigure to be asked for every input)"
            ),
        };
        hints.push(format!("  input `{name}`: {hint}"));
    }
    if keep && !typed.is_empty() {
        let kept = UnconfirmedInputs {
            values: typed
                .iter()
                .map(|(k, v)| ((*k).clone(), (*v).clone()))
                .collect(),
            ask_again: blamed
                .iter()
                .filter(|b| typed.iter().any(|(k, _)| k == b))
                .cloned()
                .collect(),
        };
        let ask_again = kept.ask_again.clone();
        match session.keep_unconfirmed(kept).await {
            Ok(()) if ask_again.is_empty() => hints.push(
                format!("your answers are kept in the checkpoint (unconfirmed); `{rerun} --reconfigure` asks for them again"),
            ),
            Ok(()) => hints.push(format!(
                "your other answers are kept in the checkpoint (unconfirmed); `{rerun}` asks again only for {}",
                quoted(&ask_again)
            )),
            Err(e) => hints.push(format!("your answers could not be kept: {e}")),
        }
        failure = failure.with_detail("ask_again", ask_again.into());
    }
    if !blamed.is_empty() {
        failure = failure.with_detail("blamed_inputs", blamed.into());
    }
    if !hints.is_empty() {
        failure.message = format!("{}\n{}", failure.message.trim_end(), hints.join("\n"));
    }
    failure
}

/// The inputs the failure's problems blame: those whose value a problem quotes; for a failed
/// step that quotes none, every input its `with` uses.
pub fn blamed_inputs(
    plan: &ExpandedPlan,
    inputs: &ResolvedInputs,
    failure: &Failure,
) -> Vec<String> {
    let mut causes: Vec<(Option<String>, String)> = Vec::new();
    if let Some(Value::Array(steps)) = failure.details.get("failed_steps") {
        for s in steps {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            causes.push((
                Some(text("step")),
                format!("{} {}", text("message"), text("help")),
            ));
        }
    } else {
        causes.push((None, failure.message.clone()));
    }
    let mut blamed: Vec<String> = Vec::new();
    for (step, text) in causes {
        // A failed step blames the inputs its `with` uses; a validation problem, any input.
        let used: Vec<String> = match plan.steps.iter().find(|s| Some(&s.id) == step.as_ref()) {
            Some(step) => step
                .with
                .references()
                .into_iter()
                .filter_map(|r| match r {
                    Reference::Input(name) => Some(name),
                    _ => None,
                })
                .collect(),
            None => inputs.values.keys().cloned().collect(),
        };
        let quoted: Vec<&String> = used
            .iter()
            .filter(|name| {
                !inputs.secrets.contains(name)
                    && inputs
                        .values
                        .get(*name)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.len() >= 3 && text.contains(s))
            })
            .collect();
        let names: Vec<&String> = if quoted.is_empty() && step.is_some() {
            used.iter().collect()
        } else {
            quoted
        };
        for name in names {
            if !blamed.contains(name) {
                blamed.push(name.clone());
            }
        }
    }
    blamed
}

fn quoted(names: &[String]) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    list.join(", ")
}
