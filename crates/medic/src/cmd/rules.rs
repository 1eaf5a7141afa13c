//! `medic rules check|list`.

use std::path::PathBuf;
use std::process::ExitCode;

use medic_rules::{RulePack, RuleSet, SourceFilter};

use super::RulesArgs;

/// `medic rules` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Validate rule packs and print every problem (file, line, rule, reason). Without PATH, checks the built-in pack.
    Check {
        /// Rule packs to check, compiled together in this order.
        paths: Vec<PathBuf>,
    },
    /// Show the effective rules in priority order.
    List {
        #[command(flatten)]
        rules: RulesArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check { paths } => check(&paths),
        Command::List { rules, json } => list(&rules, json),
    }
}

fn check(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let result = if paths.is_empty() {
        RulePack::builtin().and_then(|pack| RuleSet::compile(vec![pack]))
    } else {
        RuleSet::load(paths, false)
    };
    match result {
        Ok(set) => {
            for pack in set.packs() {
                println!(
                    "ok: {} ({} rules) from {}",
                    pack.name, pack.rules, pack.origin
                );
            }
            for rule in set.slow_rules() {
                println!(
                    "warning: {}: rule {}: no literal of 4+ bytes that every match contains; it is searched \
                     with a slower regex over the whole log",
                    rule.origin, rule.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for diagnostic in e.diagnostics() {
                println!("{diagnostic}");
            }
            eprintln!(
                "medic: {} problem(s); the packs were not loaded",
                e.diagnostics().len()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn list(args: &RulesArgs, json: bool) -> anyhow::Result<ExitCode> {
    let set = args.load()?;
    if json {
        println!("{}", serde_json::to_string_pretty(set.rules())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>4}  {:<48} {:<26} {:<11} {:<9} origin",
        "#", "rule", "category", "restartable", "source"
    );
    for (priority, rule) in set.rules().iter().enumerate() {
        let source = match rule.source {
            SourceFilter::Any => "any",
            SourceFilter::Only(source) => source.as_str(),
        };
        let scoped = if rule.scope.is_some() {
            " (scoped)"
        } else {
            ""
        };
        println!(
            "{:>4}  {:<48} {:<26} {:<11} {:<9} {}{scoped}",
            priority + 1,
            rule.name,
            rule.category.as_str(),
            rule.restartable,
            source,
            rule.origin
        );
    }
    Ok(ExitCode::SUCCESS)
}
