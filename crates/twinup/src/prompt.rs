//! Interactive prompts for missing inputs (dialoguer): the description is shown, the default
//! offered, choices become a menu, secrets are read hidden, invalid answers are asked again.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};
use serde_json::Value;
use twinup_engine::{InputError, Prompter, display_value, value_hint};
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
                    Err(reason) => eprintln!("  {reason}; try again"),
                }
            }
        }
        let mut input = Input::<String>::with_theme(&self.theme).with_prompt(label);
        match suggested.map(display_value) {
            // An empty default would show as `()`: Enter simply gives the empty value.
            Some(shown) if shown.is_empty() => input = input.allow_empty(true),
            Some(shown) => input = input.default(shown),
            None => {}
        }
        let text = input
            .validate_with(|text: &String| -> Result<(), String> {
                parse(spec, check, text)
                    .map(|_| ())
                    .map_err(|reason| fit_to_terminal(&reason))
            })
            .interact_text()
            .map_err(|e| prompt_error(spec, e))?;
        parse(spec, check, &text).map_err(|message| InputError::Invalid {
            name: spec.name.clone(),
            source_name: "the prompt".to_string(),
            message,
        })
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

/// Columns kept free on a prompt line for the answer being typed.
const ANSWER_ROOM: usize = 40;

/// The prompt's text: the description and the input's name, and for lists and maps the format
/// to type. A prompt wider than the terminal would wrap, and a wrapped prompt leaves stale
/// copies when it is redrawn, so then the description goes on a line of its own above.
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
    // Room for the theme's marks ("? ", " › "), the default in brackets and the answer typed
    // after it: the line is redrawn as one line, so it must not wrap while the person types.
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

/// `text` broken at spaces into lines that fit the terminal after the theme's error mark ("✘ "):
/// the error line is cleared when the prompt is redrawn, line by line, so a line the terminal
/// wraps itself would leave half of it behind.
fn fit_to_terminal(text: &str) -> String {
    let (_, width) = console::Term::stderr().size();
    break_lines(text, usize::from(width).saturating_sub(3))
}

/// `text` with a line break before any word that would take a line past `width` columns; a word
/// longer than `width` stays whole on its own line.
fn break_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split(' ') {
        let len = console::measure_text_width(word);
        if column > 0 && column + 1 + len > width {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::break_lines;

    #[test]
    fn lines_break_at_spaces_within_the_width_and_long_words_stay_whole() {
        assert_eq!(break_lines("aa bb cc", 5), "aa bb\ncc");
        assert_eq!(break_lines("aa bb", 80), "aa bb");
        assert_eq!(
            break_lines("a https://example.com/long b", 6),
            "a\nhttps://example.com/long\nb"
        );
    }
}
