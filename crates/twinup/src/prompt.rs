//! Interactive prompts for missing inputs (dialoguer): the description is shown, the default
//! offered, choices become a menu, secrets are read hidden, invalid answers are asked again.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};
use serde_json::Value;
use twinup_engine::{InputError, Prompter, display_value};
use twinup_plan::{InputSpec, InputType};

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
    fn ask(&mut self, spec: &InputSpec, suggested: Option<&Value>) -> Result<Value, InputError> {
        let label = match &spec.description {
            Some(d) => format!("{} ({})", d, spec.name),
            None => spec.name.clone(),
        };
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
                match spec
                    .parse_text(&text)
                    .and_then(|v| spec.check(&v).map(|_| v))
                {
                    Ok(v) => return Ok(v),
                    Err(reason) => eprintln!("  {reason}; try again"),
                }
            }
        }
        let mut input = Input::<String>::with_theme(&self.theme).with_prompt(label);
        if let Some(s) = suggested {
            input = input.default(display_value(s));
        }
        let check_spec = spec.clone();
        let text = input
            .validate_with(move |text: &String| -> Result<(), String> {
                check_spec
                    .parse_text(text)
                    .and_then(|v| check_spec.check(&v))
            })
            .interact_text()
            .map_err(|e| prompt_error(spec, e))?;
        spec.parse_text(&text)
            .and_then(|v| spec.check(&v).map(|_| v))
            .map_err(|message| InputError::Invalid {
                name: spec.name.clone(),
                source_name: "the prompt".to_string(),
                message,
            })
    }
}
