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
pub use bench::bench;
pub use classify::classification;
pub use compare::comparison;
pub use recommend::recommendation;
pub use rightsize::rightsize_plan;
pub use run::{event, workflow_summary};
pub use train::trained_model;
