//! Error and diagnostic types: where something is wrong in a plan (`Location`),
//! what is wrong and how to fix it (`Diagnostic`), and the crate's error enums.

use std::fmt;
use std::path::PathBuf;

use crate::reference::Reference;

/// A position in a plan or answers file. Line and column are 1-based; the column
/// counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file name as given to the parser (e.g. `plan.yaml`).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number (in characters).
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found in a plan or answers file, with the fix in `help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is, when it can be pinned to a place in the file.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Creates a diagnostic with a location and a help text.
    pub fn new(
        location: Option<Location>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            location,
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "error: {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// All problems found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Why a plan or answers file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}; check that the path is right and the file is readable", path.display())]
    Io {
        /// The path that was read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but has one or more problems.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl PlanError {
    /// The error for a file [`crate::read_bounded`] could not read: an I/O error, or an
    /// `Invalid` diagnostic at the file's first line naming the size limit.
    pub fn from_read(path: &std::path::Path, error: crate::limits::ReadError) -> PlanError {
        match error {
            crate::limits::ReadError::Io(source) => PlanError::Io {
                path: path.to_path_buf(),
                source,
            },
            too_large @ crate::limits::ReadError::TooLarge => {
                PlanError::Invalid(Diagnostics(vec![Diagnostic::new(
                    Some(Location {
                        file: path.display().to_string(),
                        line: 1,
                        column: 1,
                    }),
                    too_large.to_string(),
                    "plans and answers files are small: keep large data out of them",
                )]))
            }
        }
    }

    /// The diagnostics, when the error is `Invalid`.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            PlanError::Invalid(d) => Some(d),
            PlanError::Io { .. } => None,
        }
    }
}

impl From<Diagnostics> for PlanError {
    fn from(d: Diagnostics) -> Self {
        PlanError::Invalid(d)
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// A reference had no value.
    #[error("`${{{0}}}` has no value yet; it must be resolved before this template is rendered")]
    Unresolved(Reference),
    /// A string holds a malformed `${...}`.
    #[error("invalid reference in `{text}`: {message}")]
    Syntax {
        /// The whole string that holds the bad reference.
        text: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Steps that depend on each other in a loop, in dependency order: each step
/// needs the next, and the last needs the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("steps depend on each other in a cycle: {}", cycle_text(.cycle))]
pub struct CycleError {
    /// The step ids in the cycle (the first is not repeated at the end).
    pub cycle: Vec<String>,
}

/// Renders a cycle as `` `a` -> `b` -> `a` ``.
pub(crate) fn cycle_text(cycle: &[String]) -> String {
    let mut parts: Vec<String> = cycle.iter().map(|s| format!("`{s}`")).collect();
    if let Some(first) = cycle.first() {
        parts.push(format!("`{first}`"));
    }
    parts.join(" -> ")
}
