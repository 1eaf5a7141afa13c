//! `medic`: the command-line front end. Parses arguments, calls the libraries, prints. No logic of its own lives
//! here beyond presentation; `anyhow` is used only in this crate.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Classify(args) => cmd::classify::run(args),
        Command::Rules(command) => cmd::rules::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("medic: {e:#}");
            ExitCode::from(2)
        }
    }
}
