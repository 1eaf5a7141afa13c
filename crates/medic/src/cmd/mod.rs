//! One module per subcommand.

pub mod classify;
pub mod rules;

use std::path::PathBuf;

use medic_rules::RuleSet;

/// Rule-pack options shared by every command that classifies.
#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// A rule pack (YAML) to load before the built-in Spark pack; repeat for several, earlier ones win.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Do not load the built-in Spark pack.
    #[arg(long)]
    pub no_builtin_rules: bool,
}

impl RulesArgs {
    /// Loads the packs; on failure the error lists every problem.
    pub fn load(&self) -> anyhow::Result<RuleSet> {
        Ok(RuleSet::load(&self.rules, !self.no_builtin_rules)?)
    }
}
