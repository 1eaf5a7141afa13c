//! The one error of this crate: rule packs that do not load.

use std::fmt;

/// One problem found while loading rule packs: where, which rule, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The pack's file (or `<builtin>`, or the name given to [`crate::RulePack::parse`]).
    pub file: String,
    /// 1-based line in that file, when known.
    pub line: Option<u64>,
    /// The rule's name, or its position (`#3`) when it has no usable name.
    pub rule: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Rule packs that cannot be used. Every problem found is listed, never only the first.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more packs are invalid; nothing was loaded.
    #[error("{} problem(s) in rule packs:\n{}", .0.len(), DisplayAll(.0))]
    InvalidRules(Vec<Diagnostic>),
}

impl Error {
    /// The problems, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::InvalidRules(diagnostics) => diagnostics,
        }
    }
}

struct DisplayAll<'a>(&'a [Diagnostic]);

impl fmt::Display for DisplayAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {diagnostic}")?;
        }
        Ok(())
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
