//! Secret taint in a plan: a plan output that references a secret input must be declared
//! `secret: true` (then it is masked on screen and never saved). Step outputs are not tainted by
//! the secrets a step's `with` uses (as in Terraform, a sensitive argument does not make every
//! attribute sensitive); the engine still treats any output whose value holds a secret as secret.

use indexmap::IndexMap;

use crate::diag::Collector;
use crate::input::InputSpec;
use crate::parse::ParsedOutput;
use crate::reference::Reference;

/// Refuses every plan output that references a secret input and is not declared `secret: true`.
pub(crate) fn check_secret_outputs(
    c: &mut Collector<'_>,
    inputs: &IndexMap<String, InputSpec>,
    outputs: &IndexMap<String, ParsedOutput>,
) {
    for (name, output) in outputs {
        if output.secret {
            continue;
        }
        let secret_input = output
            .template
            .references()
            .into_iter()
            .find_map(|r| match r {
                Reference::Input(input) if inputs.get(&input).is_some_and(|i| i.secret) => {
                    Some(input)
                }
                _ => None,
            });
        if let Some(input) = secret_input {
            c.error(
                output.pos,
                format!(
                    "output `{name}` is derived from the secret input `{input}`, so it would be shown and saved in the checkpoint"
                ),
                format!(
                    "declare it secret: `{name}: {{value: ..., secret: true}}` (shown as ********, written only to --outputs-file), or do not output it"
                ),
            );
        }
    }
}
