//! What medic prints for people, as ripgrep's `grep-printer` is for ripgrep: every command's human-readable
//! output, rendered into any [`std::fmt::Write`] (a `String`, mostly) from the libraries' own types. The binary
//! picks between this and `--json` and writes the text out; nothing here does I/O, so that every table can be
//! tested as text and reused (a dashboard, a scheduler's log) without the binary.

mod attempts;
mod bench;
mod classify;
mod compare;
mod recommend;
mod rightsize;
mod run;
mod train;

pub use attempts::attempts;
pub use bench::{bench, prior_fit};
pub use classify::classification;
pub use compare::comparison;
pub use recommend::recommendation;
pub use rightsize::rightsize_plan;
pub use run::{event, workflow_summary};
pub use train::trained_model;

use std::borrow::Cow;

/// `text` with every control character escaped (`\n`, `\u{1b}`), for a table or a terminal: a log line's colour
/// codes or a line break in a stored text must neither drive the reader's terminal nor start a row of its own.
/// Text without one is borrowed as it is.
pub fn shown(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_debug().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_escaped_and_the_rest_as_it_is() {
        assert_eq!(super::shown("a\nb\u{1b}[31m é\t"), "a\\nb\\u{1b}[31m é\\t");
        assert!(matches!(
            super::shown("plain é"),
            std::borrow::Cow::Borrowed("plain é")
        ));
    }
}
