//! `medic`: the command-line front end. Parses arguments, calls the libraries, prints. No logic of its own lives
//! here beyond presentation; `anyhow` is used only in this crate.

mod client;
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
    /// Serve the ConfigService over HTTP (patches, configuration resolution, audit, health, metrics).
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("medic: {e:#}");
            ExitCode::from(2)
        }
    }
}
