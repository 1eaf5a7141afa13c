//! `medic config resolve`: the configuration a job would run with now.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use medic_core::SparkConf;

use super::{JobArgs, TargetArgs};

/// `medic config ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print a job's configuration with every applicable patch applied, then (on stderr) the patches applied and
    /// skipped.
    Resolve(ResolveArgs),
}

/// Output forms of a configuration.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// `{"config": {...}, "applied": [...], "skipped": [...]}`.
    Json,
    /// `spark-defaults.conf` lines, escaped as Spark reads them (a line break in a value is written `\n`).
    Defaults,
    /// `--conf key=value` arguments for spark-submit, one per line, the value to the end of the line (a setting
    /// with a line break is refused).
    ConfArgs,
}

/// Arguments of `medic config resolve`.
#[derive(clap::Args, Debug)]
pub struct ResolveArgs {
    #[command(flatten)]
    job: JobArgs,
    /// The job's original configuration: JSON, `spark-defaults.conf` or `--conf k=v` lines; `-` for standard
    /// input. Without it, the patches apply to an empty configuration.
    #[arg(long, value_name = "FILE")]
    conf: Option<PathBuf>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Resolve(args) = command;
    let config = match &args.conf {
        None => SparkConf::new(),
        Some(path) => SparkConf::parse_any(&super::read_text(path)?)
            .with_context(|| format!("{}", path.display()))?,
    };
    let resolution = args.target.medic()?.resolve(medic_api::ResolveRequest {
        job: args.job.identity(),
        config,
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&resolution)?)?,
        // Escaped so that Spark reads exactly these values, or refused (nothing printed) naming the setting.
        Format::Defaults => write!(out, "{}", resolution.config.to_spark_defaults()?)?,
        Format::ConfArgs => write!(out, "{}", resolution.config.to_conf_lines()?)?,
    }
    if !matches!(args.format, Format::Json) {
        eprintln!("applied: {}", resolution.applied.join(", "));
        for skipped in &resolution.skipped {
            eprintln!("skipped {}: {}", skipped.id, skipped.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
