//! The handlers, one module per resource.

pub mod config;
pub mod history;
pub mod mode;
pub mod patches;
pub mod recommend;
pub mod remediate;
pub mod system;
