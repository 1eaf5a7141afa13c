//! One module per subcommand.

pub mod bench;
pub mod classify;
pub mod config;
pub mod history;
pub mod model;
pub mod patch;
pub mod recommend;
pub mod rightsize;
pub mod rules;
pub mod run;
pub mod serve;
pub mod simulate;
pub mod train;

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

/// The store `medic serve`, `medic patch` and `medic config` use when given none: a SQLite file in the working
/// directory.
pub const DEFAULT_DB: &str = "sqlite://medic.sqlite";

/// A runtime for the commands that talk to a database or serve HTTP. Two workers: this machine's size, and enough
/// for the server to answer while the store waits on a disk.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Where `medic patch`, `medic config`, `medic recommend`, `medic run` and `medic history attempts` work: a running
/// server, or the database directly.
#[derive(clap::Args, Debug)]
pub struct TargetArgs {
    /// A running `medic serve` (`http://HOST:PORT`); changes need a token in `MEDIC_TOKEN`.
    #[arg(long, env = "MEDIC_SERVER", value_name = "URL", conflicts_with = "db")]
    server: Option<String>,
    /// The database itself (`sqlite://PATH` or `postgres://...`), when no server is named. Changes are audited as
    /// `local`.
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
}

/// medic as a command talks to it: a server over HTTP, or medic in this process over the database.
pub enum Connected {
    /// `--server`.
    Server(medic_client::HttpMedic),
    /// `--db`: the service is there to be configured (spaces, shadow mode, rules) before use.
    Local(medic_service::LocalMedic),
}

impl Connected {
    /// Either, as the one trait every caller talks to.
    pub fn into_medic(self) -> Box<dyn medic_api::Medic> {
        match self {
            Connected::Server(server) => Box::new(server),
            Connected::Local(local) => Box::new(local),
        }
    }
}

impl TargetArgs {
    /// The server named, or medic over the database.
    pub fn connect(&self) -> anyhow::Result<Connected> {
        Ok(match &self.server {
            Some(server) => Connected::Server(medic_client::HttpMedic::new(
                server,
                std::env::var("MEDIC_TOKEN").ok(),
            )),
            None => Connected::Local(medic_service::LocalMedic::open(
                &self.db,
                std::sync::Arc::new(medic_core::clock::SystemClock),
            )?),
        })
    }

    /// [`TargetArgs::connect`] as the one trait.
    pub fn medic(&self) -> anyhow::Result<Box<dyn medic_api::Medic>> {
        Ok(self.connect()?.into_medic())
    }
}

/// The search spaces in `path`, or the built-in ones.
pub fn load_spaces(
    path: Option<&std::path::Path>,
) -> anyhow::Result<medic_recommend::SearchSpaces> {
    Ok(match path {
        Some(path) => medic_recommend::SearchSpaces::from_yaml(
            &read_text(path)?,
            &path.display().to_string(),
        )?,
        None => medic_recommend::SearchSpaces::built_in(),
    })
}

/// A job's identity on the command line.
#[derive(clap::Args, Debug, Clone)]
pub struct JobArgs {
    /// The job's id.
    #[arg(long, value_name = "ID")]
    job: String,
    /// The job's workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// The job's owner (user or team).
    #[arg(long)]
    owner: Option<String>,
    /// The job's cluster.
    #[arg(long)]
    cluster: Option<String>,
}

impl JobArgs {
    pub fn identity(&self) -> medic_core::JobIdentity {
        medic_core::JobIdentity {
            id: self.job.clone(),
            workflow: self.workflow.clone(),
            owner: self.owner.clone(),
            cluster: self.cluster.clone(),
        }
    }
}

/// Writes what `render` renders (one of `medic_print`'s tables) to `out`.
pub fn print_text(
    out: &mut impl std::io::Write,
    render: impl FnOnce(&mut String) -> std::fmt::Result,
) -> anyhow::Result<()> {
    let mut text = String::new();
    render(&mut text)?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// The text of `path`, or of standard input for `-`.
pub fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::Read;
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(text)
}
