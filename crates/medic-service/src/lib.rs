//! medic's operations without HTTP, over one store: what `medic serve` answers and what `medic run --db`,
//! `medic recommend --db` and the simulator call in process, so that every front end decides alike.
//!
//! * [`Service`] holds what the operations share: the store, the rule packs, the recommender, the remediation
//!   policy and the shadow switch.
//!   - [`Service::remediate`] (`remediate.rs`) is the remediation flow, medic's core: classify, guard-rails,
//!     recommend, then one store transaction (revoke a right-size after a memory failure, store the patch,
//!     supersede the older one), then decide. An error before the write leaves nothing changed.
//!   - [`Service::recommend`] asks the [`Recommend`]er, by default the [`PromotedModelRecommender`] (the search
//!     spaces and the model the store has promoted); a server that leaves recommendations to another process puts
//!     its own [`Recommend`] in.
//!   - `config.rs`: the ConfigService's operations (resolve, report a run, history, attempts, patches) and the
//!     mode, with the checks every front end must make.
//!   - `carry.rs`: after a successful run, the memory fix that worked is kept as the job's carried fix
//!     ([`CarryForward`]), so that its next run does not fail the same way first.
//! * `guards.rs`: the [`RemediationPolicy`] and the guard-rails, as plain functions of a job's patches.
//! * `turns.rs`: one remediation at a time per job in this process.
//! * [`LocalMedic`] is [`medic_api::Medic`] in this process: a [`Service`] and the runtime that drives it.
//!
//! The types of requests and answers are `medic-api`'s, the HTTP server's too. Errors are this crate's
//! [`Error`]; the server turns them into status codes, [`LocalMedic`] into [`medic_api::MedicError`].

mod carry;
mod config;
mod error;
mod failure;
pub mod guards;
mod local;
mod recommend;
mod remediate;
mod turns;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use medic_recommend::SearchSpaces;
use medic_rules::RuleSet;
use medic_store::Store;

pub use carry::CarryForward;
pub use error::{Error, Result};
pub use guards::{MEDIC, RemediationPolicy};
pub use local::LocalMedic;
pub use recommend::{BoxFuture, MAX_DEADLINE_MS, PromotedModelRecommender, Recommend};

/// What medic's operations share. Cloning is cheap and shares the shadow switch, the rules and the recommender.
#[derive(Clone, Debug)]
pub struct Service {
    /// Where patches, attempts, the history and the model registry live; its clock is the service's.
    pub store: Store,
    /// The rule packs that classify logs sent with a request.
    pub rules: Rules,
    /// Who recommends the retry's configuration.
    pub recommender: Arc<dyn Recommend>,
    /// The guard-rails of the remediation flow (defaults: 4 attempts, 10 patches per job a day, 2
    /// recommendations without a success).
    pub policy: RemediationPolicy,
    /// Shadow mode, the kill switch: the remediation flow stores nothing and answers as the scheduler would
    /// without medic. Off by default. Shared by every clone.
    pub shadow: Arc<AtomicBool>,
    /// Whose turn it is to be remediated, per job. Shared by every clone.
    job_turns: Arc<turns::JobTurns>,
}

impl Service {
    /// A service over `store` with the built-in rule pack, the built-in search spaces and the promoted model, the
    /// default policy, and shadow mode off.
    pub fn new(store: Store) -> Self {
        Service {
            rules: Rules::builtin(),
            recommender: Arc::new(PromotedModelRecommender::new(
                store.clone(),
                SearchSpaces::built_in(),
            )),
            policy: RemediationPolicy::default(),
            shadow: Arc::new(AtomicBool::new(false)),
            job_turns: Arc::default(),
            store,
        }
    }

    /// Recommends over `spaces` from now on, with the promoted model.
    pub fn set_spaces(&mut self, spaces: SearchSpaces) {
        self.recommender = Arc::new(PromotedModelRecommender::new(self.store.clone(), spaces));
    }
}

/// The rule packs a service classifies with: packs given, or the built-in pack compiled on first use, so that a
/// command that never classifies (`medic patch list --db`) does not pay the pack's compilation (about 0.13 s).
/// Clones share one compiled set.
#[derive(Clone, Debug)]
pub struct Rules(Arc<OnceLock<RuleSet>>);

impl Rules {
    /// The built-in pack, compiled when first needed.
    pub fn builtin() -> Self {
        Rules(Arc::new(OnceLock::new()))
    }

    /// `rules`, compiled already (the command line's `--rules` packs).
    pub fn given(rules: RuleSet) -> Self {
        Rules(Arc::new(OnceLock::from(rules)))
    }

    /// The rule set.
    pub fn get(&self) -> &RuleSet {
        self.0.get_or_init(|| {
            RuleSet::builtin()
                .expect("the built-in rule pack compiles (medic-rules' tests check it)")
        })
    }
}
