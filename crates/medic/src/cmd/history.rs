//! `medic history import|export`: the retry history the model learns from, as JSON Lines or CSV;
//! `medic history attempts`: every attempt of every job, with its cost and peak memory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use medic_core::clock::SystemClock;
use medic_core::history::{HistoryFormat, Prices, ReadRecords};
use medic_store::{RecordFilter, Store};

use super::DEFAULT_DB;

/// `medic history ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add the records of a file to the history: all of them, or none if any line is bad (every bad line is
    /// reported).
    Import(ImportArgs),
    /// Write the whole history, oldest first.
    Export(ExportArgs),
    /// Show the attempts history: every attempt `medic run` made, first attempts and successes included, with its
    /// outcome, what medic decided or recommended, its cost and its peak memory, oldest first.
    Attempts(AttemptsArgs),
    /// Write a synthetic history with a known failure rule (a retry fails when its memory is below the job's
    /// hidden need), for trying medic out and for benchmarks. Seeded: the same seed gives the same records.
    Synthesize(SynthesizeArgs),
}

/// Arguments of `medic history synthesize`.
#[derive(clap::Args, Debug)]
pub struct SynthesizeArgs {
    /// How many records.
    #[arg(long, default_value_t = 10_000)]
    records: usize,
    /// The seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write (JSON Lines, or CSV for `.csv`).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// File formats of the history.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header; `config` is a JSON object, `plan_operators` are `;`-separated.
    Csv,
}

impl From<Format> for HistoryFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Jsonl => HistoryFormat::Jsonl,
            Format::Csv => HistoryFormat::Csv,
        }
    }
}

/// Prices for records that carry no cost.
#[derive(clap::Args, Debug)]
pub struct PriceArgs {
    /// Dollars per core-hour, for records without `cost_dollars`.
    #[arg(long, default_value_t = Prices::default().core_hour)]
    core_hour: f64,
    /// Dollars per GiB-hour of memory (heap plus overhead), for records without `cost_dollars`.
    #[arg(long, default_value_t = Prices::default().gib_hour)]
    gib_hour: f64,
}

impl PriceArgs {
    pub fn prices(&self) -> Prices {
        Prices {
            core_hour: self.core_hour,
            gib_hour: self.gib_hour,
        }
    }
}

/// Arguments of `medic history import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The file (`-` for standard input).
    file: PathBuf,
    /// Its format; by default `.csv` files are CSV and everything else JSON Lines.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    prices: PriceArgs,
    /// The store.
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
}

/// Arguments of `medic history export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Where to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The format; by default that of `--out`'s extension, JSON Lines on standard output.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The store.
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
}

/// Arguments of `medic history attempts`.
#[derive(clap::Args, Debug)]
pub struct AttemptsArgs {
    /// Only this job's attempts (its id, `<workflow>.<job>` unless the workflow names one).
    #[arg(long, value_name = "ID")]
    job: Option<String>,
    /// Only attempts that ended so.
    #[arg(long, value_enum)]
    outcome: Option<OutcomeArg>,
    /// Only the newest this many.
    #[arg(long)]
    limit: Option<u32>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: super::TargetArgs,
}

/// An attempt's outcome on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeArg {
    /// It succeeded.
    Succeeded,
    /// It failed.
    Failed,
}

/// Reads a history file (or standard input for `-`).
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    prices: &Prices,
) -> anyhow::Result<ReadRecords> {
    let format = format.map_or_else(|| HistoryFormat::of(path), HistoryFormat::from);
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )
    };
    Ok(format.read(reader, prices))
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    match command {
        Command::Import(args) => {
            let read = read_file(&args.file, args.format, &args.prices.prices())?;
            if !read.problems.is_empty() {
                for problem in &read.problems {
                    eprintln!("{}: {problem}", args.file.display());
                }
                bail!(
                    "{}: {} bad line(s); nothing imported",
                    args.file.display(),
                    read.problems.len()
                );
            }
            let added = runtime.block_on(async {
                let store = Store::open(&args.db, Arc::new(SystemClock)).await?;
                store.add_records(&read.records).await
            })?;
            eprintln!("imported {added} record(s) from {}", args.file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Attempts(args) => {
            drop(runtime);
            attempts(args)
        }
        Command::Synthesize(args) => {
            let config = medic_model::synthetic::SyntheticConfig {
                seed: args.seed,
                ..medic_model::synthetic::SyntheticConfig::default()
            };
            let records = medic_model::synthetic::generate(&config, args.records);
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(&args.out)
                    .with_context(|| format!("cannot create {}", args.out.display()))?,
            );
            HistoryFormat::of(&args.out).write(&mut out, &records)?;
            out.flush()?;
            eprintln!(
                "wrote {} synthetic record(s) to {}",
                records.len(),
                args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            let records = runtime.block_on(async {
                let store = Store::open(&args.db, Arc::new(SystemClock)).await?;
                store.records(&RecordFilter::default()).await
            })?;
            let format = match (args.format, &args.out) {
                (Some(format), _) => format.into(),
                (None, Some(path)) => HistoryFormat::of(path),
                (None, None) => HistoryFormat::Jsonl,
            };
            let mut out: Box<dyn Write> = match &args.out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            format.write(&mut out, &records)?;
            out.flush()?;
            eprintln!("exported {} record(s)", records.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn attempts(args: AttemptsArgs) -> anyhow::Result<ExitCode> {
    let entries = args.target.medic()?.attempts(medic_api::AttemptsQuery {
        job: args.job,
        outcome: args.outcome.map(|outcome| match outcome {
            OutcomeArg::Succeeded => medic_core::RunOutcome::Succeeded,
            OutcomeArg::Failed => medic_core::RunOutcome::Failed,
        }),
        limit: args.limit,
    })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        for entry in &entries {
            serde_json::to_writer(&mut out, entry)?;
            writeln!(out)?;
        }
    } else {
        let mut text = String::new();
        medic_print::attempts(&mut text, &entries)?;
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    eprintln!("{} attempt(s)", entries.len());
    Ok(ExitCode::SUCCESS)
}
