//! `Collector`: gathers diagnostics for one file while it is checked, turning
//! YAML positions into `Location`s.

use crate::errors::{Diagnostic, Diagnostics, Location, PlanError};
use crate::yaml::{Pos, YamlProblem};

/// Diagnostics found so far in one file.
pub(crate) struct Collector<'a> {
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Collector<'a> {
    pub fn new(file: &'a str) -> Self {
        Collector {
            file,
            diagnostics: Vec::new(),
        }
    }

    pub fn location(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
        }
    }

    /// Records a problem at `pos` with the fix in `help`.
    pub fn error(&mut self, pos: Pos, message: impl Into<String>, help: impl Into<String>) {
        let location = Some(self.location(pos));
        self.diagnostics
            .push(Diagnostic::new(location, message, help));
    }

    /// Records the problems the YAML loader found.
    pub fn yaml(&mut self, problems: Vec<YamlProblem>) {
        for p in problems {
            self.error(p.pos, p.message, p.help);
        }
    }

    /// `Ok` when nothing was found, else every diagnostic in file order.
    pub fn finish(self) -> Result<(), PlanError> {
        if self.diagnostics.is_empty() {
            return Ok(());
        }
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by(|a, b| match (&a.location, &b.location) {
            (Some(x), Some(y)) => (x.line, x.column).cmp(&(y.line, y.column)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        Err(PlanError::Invalid(Diagnostics(diagnostics)))
    }
}
