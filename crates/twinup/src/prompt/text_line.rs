//! One typed answer on one prompt line, redrawn without leaving stale lines however long the
//! answer or the refusal is.
//!
//! dialoguer clears what it drew by counting lines it wrote, not the lines the terminal made
//! when a long answer or message wrapped, so a wrapped prompt or refusal stayed on the screen.
//! Here dialoguer only reads the line (no default of its own, no report, no validator); this
//! module knows exactly what was typed, so it clears the wrapped rows itself, prints a refusal
//! broken into rows that fit, and prints the answered line.
//!
//! Contact point: [`ask`].

use console::{Term, measure_text_width};
use dialoguer::Input;
use dialoguer::theme::{ColorfulTheme, Theme};
use serde_json::Value;
use std::fmt;

/// Asks `label` on stderr until `parse` takes the typed text (Enter gives `default`, shown in
/// brackets; with no default an empty answer is asked again) and returns its value. The
/// answered prompt stays as "✔ label · answer".
pub fn ask(
    theme: &ColorfulTheme,
    label: &str,
    default: Option<&str>,
    parse: impl Fn(&str) -> Result<Value, String>,
) -> Result<Value, dialoguer::Error> {
    let term = Term::stderr();
    let width = usize::from(term.size().1);
    let shown = DefaultShown {
        base: theme,
        default: default.filter(|d| !d.is_empty()),
    };
    let mut prompt = String::new();
    shown
        .format_input_prompt(&mut prompt, label, None)
        .map_err(io_error)?;
    let prompt_width = measure_text_width(&prompt);
    // Rows of a refusal printed above the prompt, cleared with it.
    let mut refusal_rows = 0;
    loop {
        let typed = Input::<String>::with_theme(&shown)
            .with_prompt(label)
            .allow_empty(true)
            .report(false)
            .interact_text_on(&term)?;
        // dialoguer cleared the row the cursor is on; the rows above it are the prompt's
        // wrapped rows and the refusal's.
        let wrapped = rows(prompt_width + measure_text_width(&typed), width) - 1;
        term.clear_last_lines(wrapped + refusal_rows)?;
        let text = match (typed.is_empty(), default) {
            (false, _) => typed,
            (true, Some(default)) => default.to_string(),
            (true, None) => {
                refusal_rows = 0;
                continue;
            }
        };
        match parse(&text) {
            Ok(value) => {
                let mut line = String::new();
                theme
                    .format_input_prompt_selection(&mut line, label, &text)
                    .map_err(io_error)?;
                term.write_line(&line)?;
                return Ok(value);
            }
            Err(reason) => {
                let mut line = String::new();
                theme
                    .format_error(&mut line, &break_lines(&reason, width.saturating_sub(3)))
                    .map_err(io_error)?;
                refusal_rows = line
                    .lines()
                    .map(|row| rows(measure_text_width(row), width))
                    .sum();
                term.write_line(&line)?;
            }
        }
    }
}

/// The rows `columns` characters take on a terminal `width` wide (at least one). A row filled
/// to the last column counts as one: the cursor waits there rather than moving down.
fn rows(columns: usize, width: usize) -> usize {
    columns.saturating_sub(1) / width.max(1) + 1
}

/// `text` with a line break before any word that would take a line past `width` columns; a word
/// longer than `width` stays whole on its own line.
fn break_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split(' ') {
        let len = measure_text_width(word);
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

fn io_error(e: fmt::Error) -> dialoguer::Error {
    dialoguer::Error::IO(std::io::Error::other(e))
}

/// The base theme with the default shown in the prompt, as dialoguer shows its own default:
/// the default is offered here but applied by [`ask`], so that the typed text is exactly what
/// dialoguer returns.
struct DefaultShown<'a> {
    base: &'a ColorfulTheme,
    default: Option<&'a str>,
}

impl Theme for DefaultShown<'_> {
    fn format_input_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        _default: Option<&str>,
    ) -> fmt::Result {
        self.base.format_input_prompt(f, prompt, self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::{break_lines, rows};

    #[test]
    fn lines_break_at_spaces_within_the_width_and_long_words_stay_whole() {
        assert_eq!(break_lines("aa bb cc", 5), "aa bb\ncc");
        assert_eq!(break_lines("aa bb", 80), "aa bb");
        assert_eq!(
            break_lines("a https://example.com/long b", 6),
            "a\nhttps://example.com/long\nb"
        );
    }

    #[test]
    fn a_row_is_counted_once_it_has_a_character() {
        assert_eq!(rows(0, 80), 1);
        assert_eq!(rows(80, 80), 1);
        assert_eq!(rows(81, 80), 2);
        assert_eq!(rows(200, 80), 3);
    }
}
