//! Packs compiled into one matcher.

use std::collections::HashMap;
use std::path::PathBuf;

use medic_core::{Classification, JobIdentity, LogSource};
use regex::bytes::RegexSet;

use crate::classify::Classifier;
use crate::error::{Diagnostic, Error, Result};
use crate::pack::RulePack;
use crate::pattern;
use crate::prefilter::CandidateFinder;
use crate::rule::Rule;

/// Every loaded rule in priority order, compiled once into two matchers: one that finds the next line any rule
/// could match in a whole buffer (see [`crate::prefilter`]), and one that tells which rules match that line.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    packs: Vec<PackInfo>,
    pub(crate) finder: CandidateFinder,
    pub(crate) line_set: RegexSet,
}

/// What was loaded from one pack.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PackInfo {
    /// The pack's name.
    pub name: String,
    /// Where it came from.
    pub origin: String,
    /// How many rules it holds.
    pub rules: usize,
}

impl RuleSet {
    /// Compiles `packs`, earlier packs first in priority. Rule names must be unique across all packs.
    pub fn compile(packs: Vec<RulePack>) -> Result<RuleSet> {
        let mut problems = Vec::new();
        let mut seen: HashMap<&str, &Rule> = HashMap::new();
        for rule in packs.iter().flat_map(|p| &p.rules) {
            if let Some(first) = seen.insert(&rule.name, rule) {
                problems.push(Diagnostic {
                    file: rule.origin.file.clone(),
                    line: rule.origin.line,
                    rule: Some(rule.name.clone()),
                    message: format!("duplicate rule name (also defined at {})", first.origin),
                });
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidRules(problems));
        }
        let packs_info = packs
            .iter()
            .map(|p| PackInfo {
                name: p.name.clone(),
                origin: p.origin.clone(),
                rules: p.rules.len(),
            })
            .collect();
        let rules: Vec<Rule> = packs.into_iter().flat_map(|p| p.rules).collect();
        let patterns: Vec<&str> = rules.iter().map(|r| r.pattern.as_str()).collect();
        let combined = |message: String| {
            Error::InvalidRules(vec![Diagnostic {
                file: "<all packs>".to_owned(),
                line: None,
                rule: None,
                message: format!("the rules together are too large to compile: {message}"),
            }])
        };
        let finder = CandidateFinder::new(&patterns).map_err(combined)?;
        let line_set = pattern::line_set(&patterns).map_err(combined)?;
        Ok(RuleSet {
            rules,
            packs: packs_info,
            finder,
            line_set,
        })
    }

    /// Loads the packs at `paths` in order, then (if `with_builtin`) the built-in Spark pack after them, so that user
    /// packs take priority. Reports the problems of every pack together.
    pub fn load(paths: &[PathBuf], with_builtin: bool) -> Result<RuleSet> {
        let mut packs = Vec::new();
        let mut problems = Vec::new();
        let builtin = with_builtin.then(RulePack::builtin);
        for result in paths.iter().map(|p| RulePack::load(p)).chain(builtin) {
            match result {
                Ok(pack) => packs.push(pack),
                Err(e) => problems.extend(e.diagnostics().iter().cloned()),
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidRules(problems));
        }
        RuleSet::compile(packs)
    }

    /// The built-in Spark pack alone.
    pub fn builtin() -> Result<RuleSet> {
        RuleSet::compile(vec![RulePack::builtin()?])
    }

    /// The rules, highest priority first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that have no literal every match must contain, so that the engine searches for them with a
    /// slower regex over the whole log. A pack meant for production should have none.
    pub fn slow_rules(&self) -> impl Iterator<Item = &Rule> {
        self.finder.unfiltered_rules.iter().map(|&i| &self.rules[i])
    }

    /// The packs the rules came from, in priority order.
    pub fn packs(&self) -> &[PackInfo] {
        &self.packs
    }

    /// Starts classifying one run of `job` (if known: scoped rules apply only to their jobs).
    pub fn classifier(&self, job: Option<&JobIdentity>) -> Classifier<'_> {
        Classifier::new(self, job.cloned())
    }

    /// Classifies one in-memory log.
    pub fn classify_bytes(
        &self,
        source: LogSource,
        input: &str,
        log: &[u8],
        job: Option<&JobIdentity>,
    ) -> Classification {
        let mut classifier = self.classifier(job);
        classifier.scan_reader(source, input, log);
        classifier.finish()
    }
}
