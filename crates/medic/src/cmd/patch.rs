//! `medic patch add|list|show|revoke`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use medic_core::patch::{Lifetime, PatchBody, PatchStatus, Scope};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::TargetArgs;

/// `medic patch ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Store a scoped patch and print it.
    Add(AddArgs),
    /// List patches, oldest first.
    List(ListArgs),
    /// Print one patch.
    Show(ShowArgs),
    /// Revoke a patch, if it is still at the version you name.
    Revoke(RevokeArgs),
}

/// Arguments of `medic patch add`.
#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// Only this job. Name no scope option to make the patch global.
    #[arg(long, value_name = "ID")]
    job: Option<String>,
    /// Only jobs of this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Only jobs of this owner.
    #[arg(long)]
    owner: Option<String>,
    /// Only jobs on this cluster.
    #[arg(long)]
    cluster: Option<String>,
    /// Set a key (a merge patch); repeat for several.
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "patch")]
    set: Vec<String>,
    /// Remove a key (a merge patch); repeat for several.
    #[arg(long = "unset", value_name = "KEY", conflicts_with = "patch")]
    unset: Vec<String>,
    /// The patch as JSON (an RFC 6902 array or an RFC 7386 object), from a file or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    patch: Option<PathBuf>,
    /// How long it stays in force.
    #[arg(long, value_enum)]
    lifetime: LifetimeArg,
    /// Why, for people.
    #[arg(long)]
    reason: Option<String>,
    /// When it stops applying (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
}

/// Lifetimes on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LifetimeArg {
    /// Consumed by the job's next run.
    OneShot,
    /// Kept until a run with it succeeds.
    UntilSuccess,
    /// Kept until revoked.
    Persistent,
}

/// Arguments of `medic patch list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only patches scoped to exactly this job.
    #[arg(long, value_name = "ID")]
    job: Option<String>,
    /// Only patches in this status (active, consumed, revoked, superseded).
    #[arg(long, value_parser = parse_status)]
    status: Option<PatchStatus>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: TargetArgs,
}

/// Arguments of `medic patch show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The patch's id.
    id: String,
    #[command(flatten)]
    target: TargetArgs,
}

/// Arguments of `medic patch revoke`.
#[derive(clap::Args, Debug)]
pub struct RevokeArgs {
    /// The patch's id.
    id: String,
    /// The version you last saw (`medic patch show`); if the patch has changed since, nothing is revoked.
    #[arg(long, value_name = "N")]
    expected_version: u64,
    #[command(flatten)]
    target: TargetArgs,
}

fn parse_status(text: &str) -> Result<PatchStatus, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("`{text}` is not one of active, consumed, revoked, superseded"))
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add(args) => {
            let patch = body(&args)?;
            let expires_at = args
                .expires_at
                .as_deref()
                .map(|text| {
                    OffsetDateTime::parse(text, &Rfc3339)
                        .with_context(|| format!("--expires-at `{text}` is not an RFC 3339 time"))
                })
                .transpose()?;
            let new = medic_api::CreatePatch {
                scope: Scope {
                    job: args.job.clone(),
                    workflow: args.workflow.clone(),
                    owner: args.owner.clone(),
                    cluster: args.cluster.clone(),
                },
                patch,
                lifetime: match args.lifetime {
                    LifetimeArg::OneShot => Lifetime::OneShot,
                    LifetimeArg::UntilSuccess => Lifetime::UntilSuccess,
                    LifetimeArg::Persistent => Lifetime::Persistent,
                },
                reason: args.reason.clone(),
                expires_at,
                provenance: None,
            };
            print_json(&args.target.medic()?.create_patch(new)?)
        }
        Command::List(args) => {
            let patches = args.target.medic()?.patches(medic_api::PatchesQuery {
                job: args.job.clone(),
                status: args.status,
            })?;
            if args.json {
                return print_json(&patches);
            }
            println!(
                "{:<8} {:<8} {:<10} {:<13} {:<16} {:<32} PATCH",
                "ID", "VERSION", "STATUS", "LIFETIME", "BY", "SCOPE"
            );
            for patch in &patches {
                println!(
                    "{:<8} {:<8} {:<10} {:<13} {:<16} {:<32} {}",
                    patch.id,
                    patch.version,
                    json_name(&patch.status),
                    json_name(&patch.lifetime),
                    patch.provenance.created_by.as_deref().unwrap_or("-"),
                    patch.scope.to_string(),
                    serde_json::to_string(&patch.patch)?
                );
                // A right-size says what it was based on (the whole evidence is in `--json` and `patch show`).
                if let (true, Some(reason)) = (patch.is_rightsize(), &patch.provenance.reason) {
                    println!("{:<8} {reason}", "");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show(args) => print_json(&args.target.medic()?.patch(&args.id)?),
        Command::Revoke(args) => print_json(
            &args
                .target
                .medic()?
                .revoke_patch(&args.id, args.expected_version)?,
        ),
    }
}

/// The patch from `--set`/`--unset` (a merge patch) or `--patch FILE`.
fn body(args: &AddArgs) -> anyhow::Result<PatchBody> {
    if let Some(path) = &args.patch {
        return serde_json::from_str(&super::read_text(path)?)
            .with_context(|| format!("{}", path.display()));
    }
    let mut merge = serde_json::Map::new();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set `{pair}`: expected KEY=VALUE");
        };
        merge.insert(
            key.trim().to_owned(),
            serde_json::Value::String(value.to_owned()),
        );
    }
    for key in &args.unset {
        merge.insert(key.trim().to_owned(), serde_json::Value::Null);
    }
    if merge.is_empty() {
        bail!("say what the patch changes: --set KEY=VALUE, --unset KEY or --patch FILE");
    }
    Ok(PatchBody::MergePatch(merge))
}

fn json_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "?".to_owned(),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::SUCCESS)
}
