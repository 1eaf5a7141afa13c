//! How a scheduler talks to medic.
//!
//! * [`HttpMedic`] is [`medic_api::Medic`] over HTTP: every call is one request to a running `medic serve`, with
//!   the same request and answer types the server reads and writes (`medic-api`), and the server's refusals
//!   become [`medic_api::MedicError`]s of their kind.
//! * [`MedicRemediator`] is the scheduler's [`medic_scheduler::Remediator`] over any [`medic_api::Medic`]:
//!   [`HttpMedic`] for a shared deployment, `medic_service::LocalMedic` in process. It classifies the attempt's
//!   logs where they are (streaming them from the files), and turns medic's typed answer into the scheduler's
//!   decision, so that both ways decide alike.
//!
//! This crate holds no logic of medic's own: the decisions are the service's, wherever it runs.

mod http;
mod remediator;

pub use http::{DEFAULT_TIMEOUT, HttpMedic};
pub use remediator::MedicRemediator;
