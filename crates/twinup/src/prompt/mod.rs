//! Interactive prompts for missing inputs (dialoguer): the description is shown, the default
//! offered, choices become a menu, secrets are read hidden, invalid answers are asked again;
//! a typed answer is read by [`text_line`], which keeps long answers and refusals tidy.

use dialoguer::theme::{ColorfulTheme, Theme};
use dialoguer::{Confirm, Password, Select};
use serde_json::Value;
use twinup_engine::{InputError, Prompter, display_value, value_hint};
use twinup_plan::{InputSpec, InputType};

mod text_line;

/// Asks on the terminal.
pub struct TerminalPrompter {
    theme: ColorfulTheme,
}

impl TerminalPrompter {
    /// A prompter with the default theme.
    pub fn new() -> Self {
        TerminalPrompter {
            theme: ColorfulTheme::default(),
        }
    }
}

fn prompt_error(spec: &InputSpec, e: dialoguer::Error) -> InputError {
    let dialoguer::Error::IO(io) = e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        InputError::Interrupted {
            name: spec.name.clone(),
        }
    } else {
        InputError::Prompt {
            name: spec.name.clone(),
            message: io.to_string(),
        }
    }
}

impl Prompter for TerminalPrompter {
    fn ask(
        &mut self,
        spec: &InputSpec,
        suggested: Option<&Value>,
        check: &dyn Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, InputError> {
        let label = label(spec, suggested);
        if let Some(choices) = &spec.choices {
            let items: Vec<String> = choices.iter().map(display_value).collect();
            let default = suggested
                .and_then(|s| choices.iter().position(|c| c == s))
                .unwrap_or(0);
            let index = Select::with_theme(&self.theme)
                .with_prompt(label)
                .items(&items)
                .default(default)
                .interact()
                .map_err(|e| prompt_error(spec, e))?;
            return Ok(choices[index].clone());
        }
        if spec.ty == InputType::Bool {
            let default = suggested.and_then(Value::as_bool).unwrap_or(false);
            let answer = Confirm::with_theme(&self.theme)
                .with_prompt(label)
                .default(default)
                .interact()
                .map_err(|e| prompt_error(spec, e))?;
            return Ok(Value::Bool(answer));
        }
        if spec.secret {
            loop {
                let text = Password::with_theme(&self.theme)
                    .with_prompt(label.clone())
                    .interact()
                    .map_err(|e| prompt_error(spec, e))?;
                match parse(spec, check, &text) {
                    Ok(v) => return Ok(v),
                    Err(reason) => {
                        // Printed under the answered (masked) line and never cleared.
                        let mut line = String::new();
                        let _ = self
                            .theme
                            .format_error(&mut line, &format!("{reason}; try again"));
                        eprintln!("{line}");
                    }
                }
            }
        }
        let default = suggested.map(display_value);
        text_line::ask(&self.theme, &label, default.as_deref(), |text| {
            parse(spec, check, text)
        })
        .map_err(|e| prompt_error(spec, e))
    }
}

/// The typed text as a value of the input's type that passes `check`, or why not (the rule in
/// words).
fn parse(
    spec: &InputSpec,
    check: &dyn Fn(&Value) -> Result<(), String>,
    text: &str,
) -> Result<Value, String> {
    let value = spec
        .parse_text(text)
        .map_err(|m| twinup_engine::rule_in_words(spec, m))?;
    check(&value)?;
    Ok(value)
}

/// Columns kept free on a prompt line for a typical answer.
const ANSWER_ROOM: usize = 40;

/// The prompt's text: the description and the input's name, and for lists and maps the format
/// to type. When that line and a typical answer would not fit the terminal, the description goes
/// on a line of its own above: menus and yes/no questions are redrawn by dialoguer, which
/// counts a wrapped line as one and would leave a stale copy ([`text_line`] clears what it
/// wraps itself), and a short prompt line reads better.
fn label(spec: &InputSpec, suggested: Option<&Value>) -> String {
    let name = match spec.ty {
        InputType::List | InputType::Map => format!("{}; {}", spec.name, value_hint(spec)),
        _ => spec.name.clone(),
    };
    let Some(description) = &spec.description else {
        return name;
    };
    let full = format!("{description} ({name})");
    let (_, width) = console::Term::stderr().size();
    let shown_default = suggested
        .map(|s| display_value(s).chars().count())
        .filter(|&n| n > 0)
        .map_or(0, |n| n + 3);
    // Room for the theme's marks ("? ", " › "), the default in brackets and the answer.
    let needed = full.chars().count() + 6 + shown_default + ANSWER_ROOM;
    if needed > usize::from(width) {
        eprintln!("{description}");
        name
    } else {
        full
    }
}

/// Asks the yes/no `question` in the terminal, `default` on Enter. Ctrl-C is
/// [`crate::failure::Failure::interrupted`] with `interrupted` (exit 130); another terminal error says so.
pub fn confirm(
    question: &str,
    default: bool,
    interrupted: &str,
) -> Result<bool, crate::failure::Failure> {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(default)
        .interact()
        .map_err(|e| {
            let dialoguer::Error::IO(io) = e;
            if io.kind() == std::io::ErrorKind::Interrupted {
                crate::failure::Failure::interrupted(interrupted)
            } else {
                crate::failure::Failure::bad_input(format!("cannot ask for confirmation: {io}"))
            }
        })
}
