//! The handlers, one module per resource.

pub mod config;
pub mod patches;
pub mod system;
