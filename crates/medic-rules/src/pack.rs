//! Reading one rule pack (YAML) into validated [`Rule`]s, collecting every problem on the way.
//!
//! The YAML is first read into loose values so that one bad field does not hide the problems of the next rule;
//! each rule is then checked field by field. A pack with any problem is refused whole.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use medic_core::{Category, LogSource};
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::error::{Diagnostic, Error, Result};
use crate::pattern;
use crate::rule::{Rule, RuleOrigin, RuleScope, SourceFilter};

/// The default Spark pack, compiled into the binary so that medic works with no files around it.
const BUILTIN_YAML: &str = include_str!("../../../rules/spark.yaml");
/// The name under which the built-in pack reports problems.
pub const BUILTIN_ORIGIN: &str = "<builtin>/rules/spark.yaml";

/// Rule packs larger than this are refused rather than parsed (a pack is hand-written text).
const MAX_PACK_BYTES: u64 = 16 * 1024 * 1024;

const RULE_FIELDS: [&str; 8] = [
    "name",
    "category",
    "restartable",
    "summary",
    "source",
    "pattern",
    "scope",
    "examples",
];
const SCOPE_FIELDS: [&str; 4] = ["jobs", "workflows", "owners", "clusters"];

/// An ordered list of validated rules read from one file. Order is priority: the first matching rule wins.
#[derive(Clone, Debug)]
pub struct RulePack {
    /// The pack's `name`, or its file name.
    pub name: String,
    /// Where the pack came from.
    pub origin: String,
    /// The rules, highest priority first.
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct PackFile {
    name: Option<String>,
    #[allow(dead_code)] // read so that it is not reported as unknown
    description: Option<String>,
    rules: Option<Vec<Spanned<Value>>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

impl RulePack {
    /// The default Spark pack shipped with medic.
    pub fn builtin() -> Result<RulePack> {
        RulePack::parse(BUILTIN_ORIGIN, BUILTIN_YAML)
    }

    /// Reads and validates the pack in `path`.
    pub fn load(path: &Path) -> Result<RulePack> {
        let origin = path.display().to_string();
        let problem = |message: String| {
            Error::InvalidRules(vec![Diagnostic {
                file: origin.clone(),
                line: None,
                rule: None,
                message,
            }])
        };
        let size = std::fs::metadata(path)
            .map_err(|e| problem(format!("cannot read: {e}")))?
            .len();
        if size > MAX_PACK_BYTES {
            return Err(problem(format!(
                "{size} bytes is larger than the {MAX_PACK_BYTES}-byte limit for a rule pack"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
        let text =
            String::from_utf8(bytes).map_err(|e| problem(format!("not valid UTF-8: {e}")))?;
        RulePack::parse(&origin, &text)
    }

    /// Validates the pack in `yaml`; `origin` names it in diagnostics.
    pub fn parse(origin: &str, yaml: &str) -> Result<RulePack> {
        let mut problems = Problems {
            file: origin,
            list: Vec::new(),
        };
        let file: PackFile = match serde_saphyr::from_str(yaml) {
            Ok(file) => file,
            Err(e) => {
                let line = e.location().map(|l| l.line());
                problems.push(
                    line,
                    None,
                    format!("not a valid rule pack: {}", first_line(&e.to_string())),
                );
                return Err(problems.into_error());
            }
        };
        for key in file.unknown.keys() {
            problems.push(
                None,
                None,
                format!("unknown top-level field `{key}` (expected name, description, rules)"),
            );
        }
        let Some(raw_rules) = file.rules else {
            problems.push(
                None,
                None,
                "missing field `rules` (the ordered list of rules)".to_owned(),
            );
            return Err(problems.into_error());
        };
        let mut names = HashSet::new();
        let mut rules = Vec::with_capacity(raw_rules.len());
        for (index, raw) in raw_rules.iter().enumerate() {
            let line = Some(raw.referenced.line()).filter(|&l| l > 0);
            if let Some(rule) = check_rule(&mut problems, origin, index, line, &raw.value) {
                if !names.insert(rule.name.clone()) {
                    problems.push(
                        line,
                        Some(rule.name.clone()),
                        "duplicate rule name".to_owned(),
                    );
                }
                rules.push(rule);
            }
        }
        if !problems.list.is_empty() {
            return Err(problems.into_error());
        }
        let name = file.name.unwrap_or_else(|| {
            Path::new(origin)
                .file_stem()
                .map_or_else(|| origin.to_owned(), |s| s.to_string_lossy().into_owned())
        });
        Ok(RulePack {
            name,
            origin: origin.to_owned(),
            rules,
        })
    }
}

struct Problems<'a> {
    file: &'a str,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn push(&mut self, line: Option<u64>, rule: Option<String>, message: String) {
        self.list.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            rule,
            message,
        });
    }

    fn into_error(self) -> Error {
        Error::InvalidRules(self.list)
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Checks one rule, reporting every problem with it; `None` when it has any.
fn check_rule(
    problems: &mut Problems<'_>,
    origin: &str,
    index: usize,
    line: Option<u64>,
    raw: &Value,
) -> Option<Rule> {
    let Value::Object(fields) = raw else {
        problems.push(
            line,
            Some(format!("#{}", index + 1)),
            "a rule must be a mapping of fields".to_owned(),
        );
        return None;
    };
    let label = match fields.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => format!("#{}", index + 1),
    };
    let before = problems.list.len();
    let mut report = |message: String| problems.push(line, Some(label.clone()), message);

    for key in fields.keys().filter(|k| !RULE_FIELDS.contains(&k.as_str())) {
        report(format!(
            "unknown field `{key}` (expected one of: {})",
            RULE_FIELDS.join(", ")
        ));
    }
    let name = required_string(fields, "name", &mut report);
    if let Some(name) = &name
        && name.chars().any(char::is_whitespace)
    {
        report("`name` must not contain white space".to_owned());
    }
    let category = required_string(fields, "category", &mut report).and_then(|text| match text
        .parse::<Category>(
    ) {
        Ok(Category::Unclassified) => {
            report(
                "`category: unclassified` is what no match means; a rule must name a real category"
                    .to_owned(),
            );
            None
        }
        Ok(category) => Some(category),
        Err(e) => {
            report(e.to_string());
            None
        }
    });
    let restartable = match fields.get("restartable") {
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            report(format!("`restartable` must be true or false, not {other}"));
            None
        }
        None => {
            report(
                "missing field `restartable` (can a plain retry help? true or false)".to_owned(),
            );
            None
        }
    };
    let summary = required_string(fields, "summary", &mut report);
    let source = match fields.get("source") {
        None => Some(SourceFilter::Any),
        Some(Value::String(s)) if s == "any" => Some(SourceFilter::Any),
        Some(Value::String(s)) => match s.parse::<LogSource>() {
            Ok(LogSource::Unknown) | Err(_) => {
                report(format!(
                    "unknown source `{s}` (expected one of: any, stdout, stderr, driver, executor, eventlog, scheduler)"
                ));
                None
            }
            Ok(source) => Some(SourceFilter::Only(source)),
        },
        Some(other) => {
            report(format!("`source` must be a string, not {other}"));
            None
        }
    };
    let pattern = required_string(fields, "pattern", &mut report);
    let regex = pattern
        .as_deref()
        .and_then(|p| match pattern::compile_one(p) {
            Ok(regex) => Some(regex),
            Err(reason) => {
                report(reason);
                None
            }
        });
    let scope = match fields.get("scope") {
        None => Some(None),
        Some(value) => check_scope(value, &mut report).map(Some),
    };
    let examples = match fields.get("examples") {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => {
            let lines: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            if lines.is_none() {
                report("`examples` must be a list of strings (log lines)".to_owned());
            }
            lines
        }
        Some(_) => {
            report("`examples` must be a list of strings (log lines)".to_owned());
            None
        }
    };
    if let (Some(regex), Some(examples)) = (&regex, &examples) {
        for example in examples.iter().filter(|e| !regex.is_match(e.as_bytes())) {
            report(format!(
                "the pattern does not match its example `{example}`"
            ));
        }
    }

    if problems.list.len() > before {
        return None;
    }
    Some(Rule {
        name: name?,
        category: category?,
        restartable: restartable?,
        summary: summary?,
        source: source?,
        pattern: pattern?,
        scope: scope?,
        examples: examples?,
        origin: RuleOrigin {
            file: origin.to_owned(),
            line,
        },
        regex: regex?,
    })
}

fn required_string(
    fields: &serde_json::Map<String, Value>,
    key: &str,
    report: &mut impl FnMut(String),
) -> Option<String> {
    match fields.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            report(format!("`{key}` must not be empty"));
            None
        }
        Some(other) => {
            report(format!("`{key}` must be a string, not {other}"));
            None
        }
        None => {
            report(format!("missing field `{key}`"));
            None
        }
    }
}

fn check_scope(value: &Value, report: &mut impl FnMut(String)) -> Option<RuleScope> {
    let Value::Object(fields) = value else {
        report(
            "`scope` must be a mapping with any of: jobs, workflows, owners, clusters".to_owned(),
        );
        return None;
    };
    let mut scope = RuleScope::default();
    let mut ok = true;
    for (key, value) in fields {
        let list = match key.as_str() {
            "jobs" => &mut scope.jobs,
            "workflows" => &mut scope.workflows,
            "owners" => &mut scope.owners,
            "clusters" => &mut scope.clusters,
            _ => {
                report(format!(
                    "unknown scope field `{key}` (expected one of: {})",
                    SCOPE_FIELDS.join(", ")
                ));
                ok = false;
                continue;
            }
        };
        match value.as_array().map(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        }) {
            Some(Some(items)) => *list = items,
            _ => {
                report(format!("`scope.{key}` must be a list of strings"));
                ok = false;
            }
        }
    }
    if ok && scope.is_empty() {
        report("an empty `scope` would apply to every job; remove it or name jobs, workflows, owners or clusters".to_owned());
        ok = false;
    }
    ok.then_some(scope)
}
