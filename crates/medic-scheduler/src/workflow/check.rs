//! Checking a workflow file's tree field by field, collecting every problem on the way.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use medic_core::{JobIdentity, SparkConf};
use serde_json::Value;

use super::{CONF_PLACEHOLDER, Job, RetryPolicy, SparkApp, Workflow};
use crate::error::Problem;
use crate::yaml_tree::{Node, Tree};

const TOP_FIELDS: [&str; 4] = ["name", "description", "defaults", "jobs"];
const DEFAULT_FIELDS: [&str; 5] = ["owner", "cluster", "conf", "retry", "timeout_s"];
const JOB_FIELDS: [&str; 10] = [
    "name",
    "id",
    "owner",
    "cluster",
    "command",
    "spark",
    "conf",
    "retry",
    "timeout_s",
    "depends_on",
];
const SPARK_FIELDS: [&str; 4] = ["application", "class", "args", "master"];
const RETRY_FIELDS: [&str; 4] = [
    "max_attempts",
    "initial_backoff_s",
    "backoff_multiplier",
    "max_backoff_s",
];

/// The `defaults:` section, and the retry fields a job or the defaults may set (unset ones fall through).
#[derive(Default)]
struct Defaults {
    owner: Option<String>,
    cluster: Option<String>,
    conf: SparkConf,
    retry: RetryFields,
    timeout: Option<Duration>,
}

#[derive(Clone, Copy, Default)]
struct RetryFields {
    max_attempts: Option<u32>,
    initial_backoff: Option<Duration>,
    backoff_multiplier: Option<f64>,
    max_backoff: Option<Duration>,
}

impl RetryFields {
    fn over(self, base: RetryFields) -> RetryFields {
        RetryFields {
            max_attempts: self.max_attempts.or(base.max_attempts),
            initial_backoff: self.initial_backoff.or(base.initial_backoff),
            backoff_multiplier: self.backoff_multiplier.or(base.backoff_multiplier),
            max_backoff: self.max_backoff.or(base.max_backoff),
        }
    }

    fn policy(self) -> RetryPolicy {
        let default = RetryPolicy::default();
        RetryPolicy {
            max_attempts: self.max_attempts.unwrap_or(default.max_attempts),
            initial_backoff: self.initial_backoff.unwrap_or(default.initial_backoff),
            backoff_multiplier: self
                .backoff_multiplier
                .unwrap_or(default.backoff_multiplier),
            max_backoff: self.max_backoff.unwrap_or(default.max_backoff),
        }
    }
}

/// What the cross-job checks need of a job, even of one with problems of its own.
struct Entry {
    label: String,
    line: u64,
    name: Option<String>,
    id: Option<String>,
    depends_on: Vec<(String, u64)>,
    job: Option<Job>,
}

pub(super) struct Checker<'a> {
    file: &'a str,
    pub(super) problems: Vec<Problem>,
}

/// A mapping's known, non-empty fields in file order, each with its key's line.
#[derive(Default)]
struct Fields<'n>(Vec<(&'n str, u64, &'n Node)>);

impl<'n> Fields<'n> {
    fn get(&self, name: &str) -> Option<(u64, &'n Node)> {
        self.0
            .iter()
            .find(|(field, _, _)| *field == name)
            .map(|&(_, line, node)| (line, node))
    }
}

impl<'a> Checker<'a> {
    pub(super) fn new(file: &'a str) -> Self {
        Checker {
            file,
            problems: Vec::new(),
        }
    }

    pub(super) fn report(&mut self, line: u64, job: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line: Some(line).filter(|&l| l > 0),
            job: job.map(str::to_owned),
            message: message.into(),
        });
    }

    pub(super) fn workflow(&mut self, root: &Node, working_dir: &Path) -> Option<Workflow> {
        let Tree::Map(_) = root.value else {
            self.report(
                root.line,
                None,
                format!(
                    "a workflow must be a mapping with `name` and `jobs`, found {}",
                    root.describe()
                ),
            );
            return None;
        };
        let fields = self.fields(root, "the workflow", &TOP_FIELDS, None);
        let name = match fields.get("name") {
            Some((line, node)) => self.text(line, node, "name", None).filter(|name| {
                let blank = name.trim().is_empty();
                if blank {
                    self.report(line, None, "the workflow's `name` is empty");
                }
                !blank
            }),
            None => {
                self.report(
                    root.line,
                    None,
                    "missing field `name` (the workflow's name)",
                );
                None
            }
        };
        let defaults = fields
            .get("defaults")
            .map(|(_, node)| self.defaults(node))
            .unwrap_or_default();
        let entries = match fields.get("jobs") {
            Some((line, node)) => self.jobs(line, node, name.as_deref(), &defaults, working_dir),
            None => {
                self.report(root.line, None, "missing field `jobs` (the list of jobs)");
                Vec::new()
            }
        };
        self.cross_checks(&entries);
        Some(Workflow {
            name: name?,
            source: self.file.to_owned(),
            jobs: entries.into_iter().filter_map(|e| e.job).collect(),
        })
    }

    /// The fields of a mapping by name, with the line of each key. Unknown fields are reported; empty values
    /// (`key:` alone) count as absent.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
        job: Option<&str>,
    ) -> Fields<'n> {
        let mut fields = Fields::default();
        let Tree::Map(entries) = &node.value else {
            self.report(
                node.line,
                job,
                format!("{what} must be a mapping, found {}", node.describe()),
            );
            return fields;
        };
        for entry in entries {
            if !allowed.contains(&entry.name.as_str()) {
                self.report(
                    entry.line,
                    job,
                    format!(
                        "unknown field `{}` in {what} (expected one of: {})",
                        entry.name,
                        allowed.join(", ")
                    ),
                );
            } else if !entry.value.is_null() {
                fields
                    .0
                    .push((entry.name.as_str(), entry.line, &entry.value));
            }
        }
        fields
    }

    fn defaults(&mut self, node: &Node) -> Defaults {
        let fields = self.fields(node, "`defaults`", &DEFAULT_FIELDS, None);
        let mut defaults = Defaults::default();
        for &(field, line, value) in &fields.0 {
            match field {
                "owner" => defaults.owner = self.text(line, value, "defaults.owner", None),
                "cluster" => defaults.cluster = self.text(line, value, "defaults.cluster", None),
                "conf" => defaults.conf = self.conf(value, "defaults.conf", None),
                "retry" => defaults.retry = self.retry(value, "defaults.retry", None),
                _ => defaults.timeout = self.timeout(line, value, "defaults.timeout_s", None),
            }
        }
        defaults
    }

    fn jobs(
        &mut self,
        line: u64,
        node: &Node,
        workflow: Option<&str>,
        defaults: &Defaults,
        working_dir: &Path,
    ) -> Vec<Entry> {
        let Tree::Seq(items) = &node.value else {
            self.report(
                line,
                None,
                format!("`jobs` must be a list of jobs, found {}", node.describe()),
            );
            return Vec::new();
        };
        if items.is_empty() {
            self.report(
                line,
                None,
                "`jobs` is empty: a workflow needs at least one job",
            );
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| self.job(index, item, workflow, defaults, working_dir))
            .collect()
    }

    fn job(
        &mut self,
        index: usize,
        node: &Node,
        workflow: Option<&str>,
        defaults: &Defaults,
        working_dir: &Path,
    ) -> Entry {
        let before = self.problems.len();
        let raw_name = match &node.value {
            Tree::Map(entries) => entries
                .iter()
                .find(|e| e.name == "name")
                .and_then(|e| e.value.text()),
            _ => None,
        };
        // The label names the job in its problems, so it is known before any field is checked.
        let name = raw_name.filter(|name| job_name_problem(name).is_none());
        let label = name.clone().unwrap_or_else(|| format!("#{}", index + 1));
        let job = Some(label.as_str());
        let mut entry = Entry {
            label: label.clone(),
            line: node.line,
            name: name.clone(),
            id: None,
            depends_on: Vec::new(),
            job: None,
        };
        if !matches!(node.value, Tree::Map(_)) {
            let found = node.describe();
            self.report(
                node.line,
                job,
                format!("a job must be a mapping of fields, found {found}"),
            );
            return entry;
        }
        let fields = self.fields(node, "a job", &JOB_FIELDS, job);
        let text = |check: &mut Self, field: &str| {
            fields
                .get(field)
                .and_then(|(line, value)| check.text(line, value, field, job))
        };
        match fields.get("name") {
            None => self.report(node.line, job, "missing field `name`"),
            Some((line, _)) => {
                let problem = text(self, "name").as_deref().and_then(job_name_problem);
                if let Some(problem) = problem {
                    self.report(line, job, problem);
                }
            }
        }
        let id = text(self, "id");
        if let (Some(id), Some((line, _))) = (&id, fields.get("id"))
            && id.trim().is_empty()
        {
            self.report(line, job, "`id` is empty");
        }
        entry.id = match (&id, &name, workflow) {
            (Some(id), _, _) => Some(id.clone()),
            (None, Some(name), Some(workflow)) => Some(format!("{workflow}.{name}")),
            _ => None,
        };
        let owner = text(self, "owner").or_else(|| defaults.owner.clone());
        let cluster = text(self, "cluster").or_else(|| defaults.cluster.clone());
        let mut spark = None;
        let command = match (fields.get("command"), fields.get("spark")) {
            (Some(_), Some((line, _))) => {
                self.report(
                    line,
                    job,
                    "`command` and `spark` exclude each other: a job runs a command or submits a Spark application",
                );
                None
            }
            (Some((line, value)), None) => self.command(line, value, job),
            (None, Some((_, value))) => {
                spark = self.spark(value, job);
                spark.as_ref().map(|(app, _)| app.command())
            }
            (None, None) => {
                self.report(
                    node.line,
                    job,
                    "missing field `command` (the program and its arguments) or `spark` (a Spark application to submit)",
                );
                None
            }
        };
        let mut conf = defaults.conf.clone();
        if let Some((_, value)) = fields.get("conf") {
            conf.0.extend(self.conf(value, "conf", job).0);
        }
        if let Some((_, Some((master, line)))) = &spark {
            match conf.get("spark.master") {
                Some(set) if set != master => self.report(
                    *line,
                    job,
                    format!("`spark.master` is `{master}` here but `{set}` in the configuration: give it once"),
                ),
                _ => {
                    conf.set("spark.master", master.clone());
                }
            }
        }
        let retry = fields
            .get("retry")
            .map(|(_, value)| self.retry(value, "retry", job))
            .unwrap_or_default()
            .over(defaults.retry)
            .policy();
        let timeout = match fields.get("timeout_s") {
            Some((line, value)) => self.timeout(line, value, "timeout_s", job),
            None => defaults.timeout,
        };
        if let Some((line, value)) = fields.get("depends_on") {
            let names = self
                .texts(line, value, "depends_on", job)
                .unwrap_or_default();
            let mut seen = BTreeSet::new();
            entry.depends_on = names
                .into_iter()
                .filter(|dep| seen.insert(dep.clone()))
                .map(|dep| (dep, line))
                .collect();
        }
        if self.problems.len() > before {
            return entry;
        }
        if let (Some(name), Some(workflow), Some(command)) = (name, workflow, command) {
            entry.job = Some(Job {
                identity: JobIdentity {
                    id: entry
                        .id
                        .clone()
                        .unwrap_or_else(|| format!("{workflow}.{name}")),
                    workflow: Some(workflow.to_owned()),
                    owner,
                    cluster,
                },
                name,
                command,
                spark: spark.map(|(app, _)| app),
                conf,
                retry,
                timeout,
                depends_on: entry.depends_on.iter().map(|(d, _)| d.clone()).collect(),
                working_dir: working_dir.to_path_buf(),
            });
        }
        entry
    }

    /// Duplicate names and ids, unknown dependencies, dependency cycles.
    fn cross_checks(&mut self, entries: &[Entry]) {
        let mut first_line: HashMap<&str, u64> = HashMap::new();
        for entry in entries {
            let Some(name) = &entry.name else { continue };
            if let Some(line) = first_line.get(name.as_str()) {
                self.report(
                    entry.line,
                    Some(name),
                    format!("duplicate job name (first defined at line {line})"),
                );
            } else {
                first_line.insert(name, entry.line);
            }
        }
        let mut ids: HashMap<&str, &str> = HashMap::new();
        for entry in entries {
            let Some(id) = &entry.id else { continue };
            // Two jobs of the same name share their default id; the duplicate name is the problem reported.
            match ids.get(id.as_str()) {
                Some(other) if *other == entry.label => {}
                Some(other) => self.report(
                    entry.line,
                    Some(&entry.label),
                    format!("duplicate job id `{id}` (also the id of job {other})"),
                ),
                None => {
                    ids.insert(id, &entry.label);
                }
            }
        }
        for entry in entries {
            for (dep, line) in &entry.depends_on {
                if !first_line.contains_key(dep.as_str()) {
                    self.report(
                        *line,
                        Some(&entry.label),
                        format!("depends on unknown job `{dep}`"),
                    );
                }
            }
        }
        // Edges go from a job to the jobs it depends on, by position of each name's first definition.
        let position: HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((e.name.as_deref()?, i)))
            .rev()
            .collect();
        let edges: Vec<Vec<usize>> = entries
            .iter()
            .map(|e| {
                e.depends_on
                    .iter()
                    .filter_map(|(dep, _)| position.get(dep.as_str()).copied())
                    .collect()
            })
            .collect();
        for cycle in find_cycles(&edges) {
            let names: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .map(|&i| entries[i].label.as_str())
                .collect();
            let first = &entries[cycle[0]];
            self.report(
                first.line,
                Some(&first.label),
                format!(
                    "dependency cycle: {} (each job depends on the next)",
                    names.join(" -> ")
                ),
            );
        }
    }

    fn text(&mut self, line: u64, node: &Node, field: &str, job: Option<&str>) -> Option<String> {
        let text = node.text();
        if text.is_none() {
            self.report(
                line,
                job,
                format!("`{field}` must be text, found {}", node.describe()),
            );
        }
        text
    }

    /// A list of texts; a single text is a list of one.
    fn texts(
        &mut self,
        line: u64,
        node: &Node,
        field: &str,
        job: Option<&str>,
    ) -> Option<Vec<String>> {
        match &node.value {
            Tree::Seq(items) => {
                let mut texts = Vec::with_capacity(items.len());
                for item in items {
                    texts.push(self.text(item.line, item, &format!("{field}[]"), job)?);
                }
                Some(texts)
            }
            Tree::Scalar(_) => self.text(line, node, field, job).map(|t| vec![t]),
            Tree::Map(_) => {
                self.report(
                    line,
                    job,
                    format!("`{field}` must be a list, found a mapping"),
                );
                None
            }
        }
    }

    fn command(&mut self, line: u64, node: &Node, job: Option<&str>) -> Option<Vec<String>> {
        let argv = match &node.value {
            Tree::Scalar(_) => {
                let text = self.text(line, node, "command", job)?;
                match split_words(&text) {
                    Ok(words) => words,
                    Err(problem) => {
                        self.report(line, job, format!("`command`: {problem}"));
                        return None;
                    }
                }
            }
            Tree::Seq(_) => self.texts(line, node, "command", job)?,
            Tree::Map(_) => {
                self.report(
                    line,
                    job,
                    "`command` must be a list of arguments or one line of text, found a mapping",
                );
                return None;
            }
        };
        let problem = match argv.first().map(String::as_str) {
            None => "`command` is empty: it needs at least a program",
            Some(program) if program.trim().is_empty() => {
                "`command`'s program (its first word) is empty"
            }
            Some(CONF_PLACEHOLDER) => "`command` must start with a program, not `{conf}`",
            Some(_) => return Some(argv),
        };
        self.report(line, job, problem);
        None
    }

    /// The `spark:` section: the application to submit, and the master (with its line) when one is given.
    #[allow(clippy::type_complexity)]
    fn spark(
        &mut self,
        node: &Node,
        job: Option<&str>,
    ) -> Option<(SparkApp, Option<(String, u64)>)> {
        let before = self.problems.len();
        let fields = self.fields(node, "`spark`", &SPARK_FIELDS, job);
        if !matches!(node.value, Tree::Map(_)) {
            return None;
        }
        let text = |check: &mut Self, field: &str| {
            let (line, value) = fields.get(field)?;
            let name = format!("spark.{field}");
            let text = check.text(line, value, &name, job)?;
            if text.trim().is_empty() {
                check.report(line, job, format!("`{name}` is empty"));
                return None;
            }
            Some((text, line))
        };
        let application = text(self, "application");
        let main_class = text(self, "class").map(|(class, _)| class);
        let master = text(self, "master");
        let args = fields
            .get("args")
            .and_then(|(line, value)| self.texts(line, value, "spark.args", job))
            .unwrap_or_default();
        if application.is_none() && fields.get("application").is_none() {
            self.report(
                node.line,
                job,
                "missing field `spark.application` (the Python file or jar to submit)",
            );
        }
        if self.problems.len() > before {
            return None;
        }
        let (application, _) = application?;
        Some((
            SparkApp {
                application,
                main_class,
                args,
            },
            master,
        ))
    }

    fn conf(&mut self, node: &Node, field: &str, job: Option<&str>) -> SparkConf {
        let mut conf = SparkConf::new();
        let Tree::Map(entries) = &node.value else {
            self.report(
                node.line,
                job,
                format!(
                    "`{field}` must be a mapping of Spark keys to values, found {}",
                    node.describe()
                ),
            );
            return conf;
        };
        for entry in entries {
            if entry.name.trim().is_empty() {
                self.report(entry.line, job, format!("`{field}` has an empty key"));
            } else if let Some(value) = self.text(
                entry.line,
                &entry.value,
                &format!("{field}.{}", entry.name),
                job,
            ) {
                conf.set(entry.name.clone(), value);
            }
        }
        conf
    }

    fn retry(&mut self, node: &Node, prefix: &str, job: Option<&str>) -> RetryFields {
        let fields = self.fields(node, &format!("`{prefix}`"), &RETRY_FIELDS, job);
        let mut retry = RetryFields::default();
        for &(field, line, value) in &fields.0 {
            let name = format!("{prefix}.{field}");
            let Some(number) = self.number(line, value, &name, job) else {
                continue;
            };
            let found = value.describe();
            match field {
                "max_attempts" => {
                    if number.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&number) {
                        retry.max_attempts = Some(number as u32);
                    } else {
                        self.report(
                            line,
                            job,
                            format!("`{name}` must be a whole number of at least 1 (the first attempt counts), found {found}"),
                        );
                    }
                }
                "backoff_multiplier" => {
                    if number >= 1.0 {
                        retry.backoff_multiplier = Some(number);
                    } else {
                        self.report(
                            line,
                            job,
                            format!(
                                "`{name}` must be at least 1 (waits never shrink), found {found}"
                            ),
                        );
                    }
                }
                "initial_backoff_s" => {
                    retry.initial_backoff = self.seconds(line, value, &name, job)
                }
                _ => retry.max_backoff = self.seconds(line, value, &name, job),
            }
        }
        retry
    }

    fn timeout(
        &mut self,
        line: u64,
        node: &Node,
        field: &str,
        job: Option<&str>,
    ) -> Option<Duration> {
        let seconds = self.seconds(line, node, field, job)?;
        if seconds.is_zero() {
            self.report(
                line,
                job,
                format!("`{field}` must be more than 0 (leave it out for no limit)"),
            );
            return None;
        }
        Some(seconds)
    }

    fn number(&mut self, line: u64, node: &Node, field: &str, job: Option<&str>) -> Option<f64> {
        let number = match &node.value {
            Tree::Scalar(Value::Number(n)) => n.as_f64().filter(|n| n.is_finite()),
            _ => None,
        };
        if number.is_none() {
            self.report(
                line,
                job,
                format!("`{field}` must be a number, found {}", node.describe()),
            );
        }
        number
    }

    fn seconds(
        &mut self,
        line: u64,
        node: &Node,
        field: &str,
        job: Option<&str>,
    ) -> Option<Duration> {
        let seconds = self.number(line, node, field, job)?;
        let duration = Duration::try_from_secs_f64(seconds).ok();
        if duration.is_none() {
            self.report(
                line,
                job,
                format!(
                    "`{field}` must be a number of seconds of at least 0, found {}",
                    node.describe()
                ),
            );
        }
        duration
    }
}

/// Why `name` cannot name a job, if it cannot. Names become folder names, so they are kept to a safe alphabet.
fn job_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the job's `name` is empty".to_owned());
    }
    let safe = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (!safe || name.starts_with('.')).then(|| {
        format!(
            "job name `{name}` may hold only letters, digits, `-`, `_` and `.`, and must not start with `.` (it names the job's folder)"
        )
    })
}

/// Every cycle found by a depth-first search of `edges` (iterative, so a long chain cannot exhaust the stack),
/// each as the positions along it, starting from the job first reached.
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    let mut cycles = Vec::new();
    for start in 0..edges.len() {
        if mark[start] != Mark::New {
            continue;
        }
        mark[start] = Mark::OnPath;
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            let Some(&dep) = edges[node].get(*next) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match mark[dep] {
                Mark::New => {
                    mark[dep] = Mark::OnPath;
                    path.push((dep, 0));
                }
                Mark::OnPath => {
                    if let Some(from) = path.iter().position(|&(n, _)| n == dep) {
                        cycles.push(path[from..].iter().map(|&(n, _)| n).collect());
                    }
                }
                Mark::Done => {}
            }
        }
    }
    cycles
}

/// Splits a one-line command into words the way a POSIX shell would quote them (`'...'`, `"..."`, `\`), without
/// running a shell: no variables, globs, pipes or redirections. Unquoted shell operators are refused rather than
/// passed on as arguments, with the way to get a shell when one is wanted.
fn split_words(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated double quote".to_owned()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a trailing `\\` escapes nothing".to_owned()),
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' => {
                return Err(format!(
                    "`{c}` is shell syntax, and a command is not run through a shell; quote it, or write `command: [sh, -c, '...']`"
                ));
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_commands_split_like_a_shell_without_one() {
        assert_eq!(
            split_words(r#"spark-submit  --name 'my job' "a \"b\"" c\ d {conf} ''"#),
            Ok(vec![
                "spark-submit".to_owned(),
                "--name".to_owned(),
                "my job".to_owned(),
                "a \"b\"".to_owned(),
                "c d".to_owned(),
                "{conf}".to_owned(),
                String::new(),
            ])
        );
        assert!(split_words("echo 'oops").is_err());
        assert!(split_words("a | b").is_err());
        assert_eq!(
            split_words("echo '$HOME|x'"),
            Ok(vec!["echo".to_owned(), "$HOME|x".to_owned()])
        );
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 -> 0 (not on a cycle).
        let cycles = find_cycles(&[vec![1], vec![2], vec![0], vec![3], vec![0]]);
        assert_eq!(cycles, [vec![0, 1, 2], vec![3]]);
        assert!(find_cycles(&[vec![], vec![0], vec![0, 1]]).is_empty());
    }
}
