//! `medic`: the command-line front end. Parses arguments, calls the libraries, prints. No logic of its own lives
//! here beyond presentation; `anyhow` is used only in this crate.

// Training and inference allocate many small tensors: measured here, mimalloc trains about 8x faster than glibc's
// malloc (see ARCHITECTURE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// medic remediates failed Spark jobs: it classifies the failure, recommends a configuration for the retry and
/// drives the retry.
#[derive(Parser)]
#[command(name = "medic", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify the logs of failed runs: what failed, can a plain retry help, which rule decided, the evidence.
    Classify(cmd::classify::Args),
    /// Check and list rule packs.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Serve medic's API over HTTP: remediation, recommendations, classification and the ConfigService (patches,
    /// resolution, runs, history, audit), with health, metrics and the OpenAPI document.
    Serve(cmd::serve::Args),
    /// Add, list, show and revoke scoped configuration patches, on a server or a database.
    #[command(subcommand)]
    Patch(cmd::patch::Command),
    /// Resolve a job's configuration with its patches.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Import and export the retry history the model learns from.
    #[command(subcommand)]
    History(cmd::history::Command),
    /// Train the prediction model from the history, audit it on the latest records, save and register it.
    Train(cmd::train::Args),
    /// List, show and promote trained model versions.
    #[command(subcommand)]
    Model(cmd::model::Command),
    /// Recommend the configuration of a failed run's retry, or say not to retry.
    Recommend(cmd::recommend::Args),
    /// Run a workflow to the end, retrying failed jobs with medic's decisions.
    Run(cmd::run::Args),
    /// Benchmarks of medic on real jobs.
    #[command(subcommand)]
    Bench(cmd::bench::Command),
    /// Right-size each job's memory from its recent successful runs (a dry run unless --apply).
    Rightsize(cmd::rightsize::Args),
    /// Compare medic with today's retry policies on a simulated fleet (history, training, remediation, costs).
    Simulate(cmd::simulate::Args),
    /// The whole system on the built-in simulated fleet: history, training, remediation, the comparison table and
    /// a report with plots (medic-demo/report.md).
    Demo(cmd::simulate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; RUST_LOG overrides the level (e.g. RUST_LOG=medic_server=debug for every request).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Classify(args) => cmd::classify::run(args),
        Command::Rules(command) => cmd::rules::run(command),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Patch(command) => cmd::patch::run(command),
        Command::Config(command) => cmd::config::run(command),
        Command::History(command) => cmd::history::run(command),
        Command::Train(args) => cmd::train::run(args),
        Command::Model(command) => cmd::model::run(command),
        Command::Recommend(args) => cmd::recommend::run(args),
        Command::Bench(command) => cmd::bench::run(command),
        Command::Run(args) => cmd::run::run(args),
        Command::Rightsize(args) => cmd::rightsize::run(args),
        Command::Simulate(args) => cmd::simulate::run(args, false),
        Command::Demo(args) => cmd::simulate::run(args, true),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("medic: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        // clap checks names, conflicts and defaults of every subcommand only when one is used; check them all.
        super::Cli::command().debug_assert();
    }
}
