//! Search spaces: per failure category, the Spark settings a retry may change and the values each may take; the
//! decision policy (λ, feasibility) and the clusters' limits. Read from YAML that users edit
//! (`spaces/spark.yaml` is the built-in file).

use std::collections::BTreeMap;

use medic_core::spark::{
    self, DRIVER_MEMORY, DRIVER_OVERHEAD, EXECUTOR_CORES, EXECUTOR_MEMORY, EXECUTOR_OVERHEAD,
};
use medic_core::units::{SizeUnit, parse_size};
use medic_core::{Category, JobIdentity, SparkConf};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The built-in spaces file.
pub const BUILT_IN: &str = include_str!("../spaces/spark.yaml");

/// Largest number of values one setting may take (a finer grid only slows the search).
pub const MAX_LEVELS: usize = 4096;

/// Everything the recommender is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpaces {
    /// λ, feasibility thresholds.
    pub policy: Policy,
    /// Limits per cluster; `default` for the others.
    pub clusters: BTreeMap<String, Limits>,
    /// The settings each category may change. A category not listed changes nothing.
    pub categories: BTreeMap<Category, Vec<Setting>>,
}

/// How the objective trades failure against cost, and what is feasible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Weight of the relative cost in `P(fail) + λ · cost / reference_cost`.
    pub lambda: f64,
    /// λ per job owner (overrides `lambda`).
    #[serde(default)]
    pub lambda_by_owner: BTreeMap<String, f64>,
    /// λ per job id (overrides the owner's).
    #[serde(default)]
    pub lambda_by_job: BTreeMap<String, f64>,
    /// Highest acceptable predicted P(fail) of a retry.
    pub p_max: f64,
    /// Highest acceptable predicted cost, as a multiple of the unchanged configuration's.
    pub max_cost_ratio: f64,
    /// Unclassified errors: at or above this predicted P(fail) of the unchanged configuration, do not retry.
    pub unclassified_p_fail_threshold: f64,
    /// Whether the model alone may refuse to retry a memory failure (nothing it searched is feasible). Off by
    /// default: a model's P(fail) is least reliable where its history is thin, and a refused retry that would
    /// have worked costs a person; the heuristics answer instead, as a bump of the memory that ran out.
    #[serde(default)]
    pub model_may_refuse_memory_retries: bool,
    /// `α` of the heuristics' prior on a memory need over the setting that failed, `P(need > k × setting) = k^-α`
    /// ([`crate::prior`]): the steps they take and the P(fail) they report. Fitted on real failures by
    /// `medic bench prior`.
    #[serde(default = "default_memory_need_tail")]
    pub memory_need_tail: f64,
}

fn default_memory_need_tail() -> f64 {
    crate::prior::DEFAULT_TAIL
}

impl Policy {
    /// λ for `job`: its own, else its owner's, else the default.
    pub fn lambda_for(&self, job: &JobIdentity) -> f64 {
        self.lambda_by_job
            .get(&job.id)
            .or_else(|| {
                job.owner
                    .as_ref()
                    .and_then(|owner| self.lambda_by_owner.get(owner))
            })
            .copied()
            .unwrap_or(self.lambda)
    }
}

/// What one cluster grants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The largest container, heap plus overhead, in MiB (executors and driver alike).
    pub max_container_mib: u64,
    /// The most cores one executor may have.
    pub max_executor_cores: u32,
}

/// One setting a category may change. Fields are checked by [`SearchSpaces::problems`]: an integer needs `min`,
/// `max` and `step` (whole numbers), a continuous setting `min`, `max` and `step`, a choice `values`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// The Spark key.
    pub key: String,
    /// How its values are described.
    #[serde(rename = "type")]
    pub kind: SettingKind,
    /// `mib` for memory sizes (written `<n>m`), `count` for plain numbers (integers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<IntegerUnit>,
    /// Smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Distance between values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// The values of a choice, as written (YAML numbers are taken as their text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Scalar>>,
    /// The retry never gets less of it than the failed run had.
    #[serde(default)]
    pub never_below_original: bool,
    /// The retry never gets more of it than the failed run had (the tasks sharing a heap that ran out).
    #[serde(default)]
    pub never_above_original: bool,
    /// The retry changes it by at most this factor (≥ 1) up or down from the failed run's value, when that run
    /// set it. The model learned from retries near real configurations; far from them its predictions are
    /// guesses, and an optimiser would happily pick a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_factor_of_original: Option<f64>,
    /// The retry gets at least the heuristics' value of it (the memory that ran out, multiplied or sized from the
    /// error), or this factor (≥ 1) of the failed run's value, whichever is less: the step on the memory that ran
    /// out is always taken, and the model chooses what to add to it. Where the model is wrong about the knobs
    /// that did not run out (fewer cores, more partitions), the step still fixes what did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heuristic_floor_factor: Option<f64>,
}

/// How a setting's values are described.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// Whole numbers from `min` to `max` in steps of `step`.
    Integer,
    /// Numbers from `min` to `max` in steps of `step` (the optimisers search the grid of steps).
    Continuous,
    /// The listed values.
    Choice,
}

/// The unit of an integer setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegerUnit {
    /// A plain number.
    #[default]
    Count,
    /// A memory size in MiB, written `<n>m` (Spark's unit rules read it back exactly).
    Mib,
}

/// A YAML scalar taken as text: `200` and `"200"` are the same value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
}

impl Scalar {
    /// The value as Spark reads it.
    pub fn text(&self) -> String {
        match self {
            Scalar::Text(text) => text.clone(),
            Scalar::Integer(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
        }
    }
}

impl SearchSpaces {
    /// The built-in spaces.
    pub fn built_in() -> Self {
        match Self::from_yaml(BUILT_IN, "built-in spaces") {
            Ok(spaces) => spaces,
            // The built-in file is checked by a unit test; this branch cannot be reached by a release.
            Err(error) => unreachable!("the built-in search spaces are invalid: {error}"),
        }
    }

    /// Reads and checks a spaces file. `origin` names it in errors. Every problem is reported, not just the first.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, Error> {
        let spaces: SearchSpaces =
            serde_saphyr::from_str(text).map_err(|error| Error::InvalidSpaces {
                origin: origin.to_owned(),
                problems: vec![error.to_string()],
            })?;
        let problems = spaces.problems();
        if problems.is_empty() {
            Ok(spaces)
        } else {
            Err(Error::InvalidSpaces {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// Every reason this configuration cannot be used.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let policy = &self.policy;
        let lambdas = std::iter::once(("policy.lambda".to_owned(), policy.lambda))
            .chain(
                policy
                    .lambda_by_owner
                    .iter()
                    .map(|(k, v)| (format!("policy.lambda_by_owner.{k}"), *v)),
            )
            .chain(
                policy
                    .lambda_by_job
                    .iter()
                    .map(|(k, v)| (format!("policy.lambda_by_job.{k}"), *v)),
            );
        for (name, lambda) in lambdas {
            if !(lambda.is_finite() && lambda >= 0.0) {
                problems.push(format!("{name} is {lambda}, expected a number ≥ 0"));
            }
        }
        for (name, p) in [
            ("policy.p_max", policy.p_max),
            (
                "policy.unclassified_p_fail_threshold",
                policy.unclassified_p_fail_threshold,
            ),
        ] {
            if !(0.0..=1.0).contains(&p) {
                problems.push(format!("{name} is {p}, expected a probability (0 to 1)"));
            }
        }
        if !(policy.memory_need_tail.is_finite() && policy.memory_need_tail > 0.0) {
            problems.push(format!(
                "policy.memory_need_tail is {}, expected a number > 0",
                policy.memory_need_tail
            ));
        }
        if !(policy.max_cost_ratio.is_finite() && policy.max_cost_ratio > 0.0) {
            problems.push(format!(
                "policy.max_cost_ratio is {}, expected a number > 0",
                policy.max_cost_ratio
            ));
        }
        if !self.clusters.contains_key("default") {
            problems
                .push("clusters: no `default` entry (the limits of unlisted clusters)".to_owned());
        }
        for (name, limits) in &self.clusters {
            if limits.max_container_mib < 512 {
                problems.push(format!(
                    "clusters.{name}.max_container_mib is {}, expected at least 512",
                    limits.max_container_mib
                ));
            }
            if limits.max_executor_cores == 0 {
                problems.push(format!("clusters.{name}.max_executor_cores is 0"));
            }
        }
        for (category, settings) in &self.categories {
            let mut seen = std::collections::BTreeSet::new();
            for setting in settings {
                let at = format!("categories.{category}.{}", setting.key);
                if !setting.key.starts_with("spark.") {
                    problems.push(format!(
                        "{at}: not a Spark key (Spark ignores keys outside `spark.`)"
                    ));
                }
                if !seen.insert(&setting.key) {
                    problems.push(format!("{at}: listed twice"));
                }
                if let Err(problem) = levels(setting) {
                    problems.push(format!("{at}: {problem}"));
                }
                if setting.never_below_original && setting.never_above_original {
                    problems.push(format!(
                        "{at}: never_below_original and never_above_original together leave it as it was: list it \
                         in no space instead"
                    ));
                }
                for (name, factor) in [
                    (
                        "within_factor_of_original",
                        setting.within_factor_of_original,
                    ),
                    ("heuristic_floor_factor", setting.heuristic_floor_factor),
                ] {
                    if let Some(factor) = factor
                        && !(factor.is_finite() && factor >= 1.0)
                    {
                        problems.push(format!("{at}: {name} is {factor}, expected a number ≥ 1"));
                    }
                }
            }
        }
        problems
    }

    /// The limits of `cluster` (or the default ones).
    pub fn limits_for(&self, cluster: Option<&str>) -> Limits {
        cluster
            .and_then(|name| self.clusters.get(name))
            .or_else(|| self.clusters.get("default"))
            .copied()
            .unwrap_or(Limits {
                max_container_mib: 65536,
                max_executor_cores: 16,
            })
    }

    /// The settings `category` may change (none when it is not listed).
    pub fn settings_for(&self, category: Category) -> &[Setting] {
        self.categories.get(&category).map_or(&[], Vec::as_slice)
    }
}

/// One setting's allowed values, as text and as a number for comparisons (MiB for sizes; `None` for a choice
/// that is not a number).
fn levels(setting: &Setting) -> Result<Vec<(String, Option<f64>)>, String> {
    let misplaced: Vec<&str> = match setting.kind {
        SettingKind::Integer => [("values", setting.values.is_some())].to_vec(),
        SettingKind::Continuous => [
            ("values", setting.values.is_some()),
            ("unit", setting.unit.is_some()),
        ]
        .to_vec(),
        SettingKind::Choice => [
            ("unit", setting.unit.is_some()),
            ("min", setting.min.is_some()),
            ("max", setting.max.is_some()),
            ("step", setting.step.is_some()),
        ]
        .to_vec(),
    }
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    if !misplaced.is_empty() {
        return Err(format!(
            "`{}` does not apply to a {:?} setting",
            misplaced.join("`, `"),
            setting.kind
        )
        .to_lowercase());
    }
    if setting.kind == SettingKind::Choice {
        let values = setting.values.as_deref().unwrap_or_default();
        if values.is_empty() {
            return Err("a choice with no values".to_owned());
        }
        if values.len() > MAX_LEVELS {
            return Err(format!("more than {MAX_LEVELS} values"));
        }
        let texts: Vec<String> = values.iter().map(Scalar::text).collect();
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != texts.len() {
            return Err("a value is listed twice".to_owned());
        }
        return Ok(texts
            .into_iter()
            .map(|text| {
                let number = number_of(&text);
                (text, number)
            })
            .collect());
    }
    let (Some(min), Some(max), Some(step)) = (setting.min, setting.max, setting.step) else {
        return Err("needs `min`, `max` and `step`".to_owned());
    };
    if !(min.is_finite()
        && max.is_finite()
        && step.is_finite()
        && step > 0.0
        && min <= max
        && min >= 0.0)
    {
        return Err(format!(
            "min {min}, max {max}, step {step}: expected finite numbers, 0 ≤ min ≤ max and step > 0"
        ));
    }
    let count = ((max - min) / step + 1e-9).floor() as usize + 1;
    if count > MAX_LEVELS {
        return Err(format!(
            "{count} values, more than {MAX_LEVELS}: use a larger step"
        ));
    }
    if setting.kind == SettingKind::Integer {
        if [min, max, step].iter().any(|x| x.fract() != 0.0) {
            return Err(format!(
                "min {min}, max {max}, step {step}: expected whole numbers"
            ));
        }
        let unit = setting.unit.unwrap_or_default();
        return Ok((0..count)
            .map(|i| {
                let n = (min + i as f64 * step) as u64;
                let text = match unit {
                    IntegerUnit::Count => n.to_string(),
                    IntegerUnit::Mib => format!("{n}m"),
                };
                (text, Some(n as f64))
            })
            .collect());
    }
    // Written with the step's decimals, so that 0.4 + 3 × 0.05 reads `0.55`, not `0.5500000000000001`.
    let decimals = decimals_of(step);
    Ok((0..count)
        .map(|i| {
            let x = min + i as f64 * step;
            let text = format!("{x:.decimals$}");
            let value = text.parse::<f64>().unwrap_or(x);
            (text, Some(value))
        })
        .collect())
}

fn decimals_of(step: f64) -> usize {
    (0..=9)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-9
        })
        .unwrap_or(9)
}

/// A value's number for comparisons: sizes in MiB, plain numbers as they are.
fn number_of(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    if let Ok(x) = trimmed.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    parse_size(trimmed, SizeUnit::Mib)
        .ok()
        .map(|bytes| bytes as f64 / (1u64 << 20) as f64)
}

/// The value `key` has in `original`, as a number: what it says, or Spark's default where that depends on other
/// settings (an unset overhead is 10 % of the heap, at least 384 MiB: a retry must not get less than that either).
fn current_value(original: &SparkConf, key: &str) -> Option<f64> {
    original.get(key).and_then(number_of).or_else(|| {
        let heap_key = match key {
            EXECUTOR_OVERHEAD => EXECUTOR_MEMORY,
            DRIVER_OVERHEAD => DRIVER_MEMORY,
            _ => return None,
        };
        let heap = original
            .get(heap_key)
            .and_then(number_of)
            .unwrap_or(spark::DEFAULT_HEAP_MIB);
        Some(spark::default_overhead_mib(heap))
    })
}

/// One searched setting of one recommendation: its allowed values after the failed run's floor.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    /// The Spark key.
    pub key: String,
    /// The values as text.
    pub texts: Vec<String>,
    /// The values as numbers (MiB for sizes), when they are numbers.
    pub numbers: Vec<Option<f64>>,
}

/// The space of one recommendation: the category's settings, each cut to the values allowed for this failed run.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The searched settings.
    pub dimensions: Vec<Dimension>,
}

/// A point of a [`Grid`]: one value index per dimension.
pub type Point = Vec<u16>;

impl Grid {
    /// The grid of `settings` for a run that failed with `original`. A `never_below_original` setting loses the
    /// values below the original's (a setting with no value left is not searched: the run already had more), a
    /// `never_above_original` one those above it; a
    /// `within_factor_of_original` one the values farther than that factor from it; a `heuristic_floor_factor`
    /// one the values below the lesser of `heuristic`'s (the heuristics' retry configuration) and that factor of
    /// the original's, or all but its largest when none reaches it.
    pub fn new(settings: &[Setting], original: &SparkConf, heuristic: Option<&SparkConf>) -> Grid {
        let dimensions = settings
            .iter()
            .filter_map(|setting| {
                let levels = levels(setting).ok()?;
                let current = current_value(original, &setting.key);
                let floor = setting.never_below_original.then_some(current).flatten();
                let ceiling = setting.never_above_original.then_some(current).flatten();
                let band = setting
                    .within_factor_of_original
                    .zip(current)
                    .map(|(factor, current)| (current / factor, current * factor));
                let mut allowed: Vec<(String, Option<f64>)> = levels
                    .into_iter()
                    .filter(|(_, number)| match (floor, number) {
                        (Some(floor), Some(number)) => *number >= floor,
                        _ => true,
                    })
                    .filter(|(_, number)| match (ceiling, number) {
                        (Some(ceiling), Some(number)) => *number <= ceiling,
                        _ => true,
                    })
                    .filter(|(_, number)| match (band, number) {
                        (Some((low, high)), Some(number)) => (low..=high).contains(number),
                        _ => true,
                    })
                    .collect();
                let step = setting
                    .heuristic_floor_factor
                    .zip(heuristic.and_then(|config| current_value(config, &setting.key)))
                    .map(|(factor, step)| {
                        current.map_or(step, |current| step.min(current * factor))
                    });
                if let Some(step) = step {
                    let largest = allowed
                        .iter()
                        .filter_map(|(_, number)| *number)
                        .fold(f64::NEG_INFINITY, f64::max);
                    let step = step.min(largest);
                    allowed.retain(|(_, number)| number.is_none_or(|number| number >= step));
                }
                let (texts, numbers): (Vec<String>, Vec<Option<f64>>) = allowed.into_iter().unzip();
                (!texts.is_empty()).then(|| Dimension {
                    key: setting.key.clone(),
                    texts,
                    numbers,
                })
            })
            .collect();
        Grid { dimensions }
    }

    /// Number of points.
    pub fn size(&self) -> u128 {
        self.dimensions
            .iter()
            .map(|d| d.texts.len() as u128)
            .product()
    }

    /// The configuration of `point`: `original` with the searched settings replaced. A value equal to the
    /// original's (`2048m` for `2g`) keeps the original's text, so that it is not reported as a change.
    pub fn config(&self, original: &SparkConf, point: &[u16]) -> SparkConf {
        let mut config = original.clone();
        for (dimension, &level) in self.dimensions.iter().zip(point) {
            let Some(text) = dimension.texts.get(usize::from(level)) else {
                continue;
            };
            let number = dimension.numbers.get(usize::from(level)).copied().flatten();
            let unchanged = original.get(&dimension.key).is_some_and(|current| {
                current == text || (number.is_some() && number_of(current) == number)
            });
            if !unchanged {
                config.set(dimension.key.clone(), text.clone());
            }
        }
        config
    }

    /// The point whose values are nearest `config`'s (by number where both are numbers, else by text), for
    /// starting a search where the failed run was.
    pub fn nearest(&self, config: &SparkConf) -> Point {
        self.dimensions
            .iter()
            .map(|dimension| {
                let Some(text) = config.get(&dimension.key) else {
                    return 0;
                };
                if let Some(i) = dimension.texts.iter().position(|t| t == text) {
                    return i as u16;
                }
                let Some(target) = number_of(text) else {
                    return 0;
                };
                dimension
                    .numbers
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| n.map(|n| (i, (n - target).abs())))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or(0, |(i, _)| i as u16)
            })
            .collect()
    }
}

/// The resources of a configuration that the cluster limits bound, read once per recommendation so that checking a
/// candidate costs a few comparisons.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContainerCheck {
    limits: Limits,
    executor_heap: f64,
    executor_overhead: Option<f64>,
    executor_cores: f64,
    driver_heap: f64,
    driver_overhead: Option<f64>,
}

impl ContainerCheck {
    /// The check of candidates derived from `original` under `limits`.
    pub fn new(original: &SparkConf, limits: Limits) -> Self {
        let mib = |key: &str| original.get(key).and_then(number_of);
        ContainerCheck {
            limits,
            executor_heap: mib(EXECUTOR_MEMORY).unwrap_or(spark::DEFAULT_HEAP_MIB),
            executor_overhead: mib(EXECUTOR_OVERHEAD),
            executor_cores: mib(EXECUTOR_CORES).unwrap_or(spark::DEFAULT_CORES),
            driver_heap: mib(DRIVER_MEMORY).unwrap_or(spark::DEFAULT_HEAP_MIB),
            driver_overhead: mib(DRIVER_OVERHEAD),
        }
    }

    /// Whether `point` of `grid` fits the cluster: both containers (heap plus explicit or default overhead) and
    /// the executor's cores within the limits.
    pub fn fits(&self, grid: &Grid, point: &[u16]) -> bool {
        let mut resources = *self;
        for (dimension, &level) in grid.dimensions.iter().zip(point) {
            let Some(Some(value)) = dimension.numbers.get(usize::from(level)) else {
                continue;
            };
            match dimension.key.as_str() {
                EXECUTOR_MEMORY => resources.executor_heap = *value,
                EXECUTOR_OVERHEAD => resources.executor_overhead = Some(*value),
                EXECUTOR_CORES => resources.executor_cores = *value,
                DRIVER_MEMORY => resources.driver_heap = *value,
                DRIVER_OVERHEAD => resources.driver_overhead = Some(*value),
                _ => {}
            }
        }
        resources.within_limits()
    }

    /// Whether the configuration it was made from fits.
    pub fn within_limits(&self) -> bool {
        let max = self.limits.max_container_mib as f64;
        let (executor, driver) = self.containers();
        executor <= max
            && driver <= max
            && self.executor_cores <= f64::from(self.limits.max_executor_cores)
    }

    /// Whether the configuration it was made from asks for no larger a container (executor or driver) and no more
    /// cores than `other`'s: a cluster that ran `other` runs it too, whatever the limits say.
    pub fn no_larger_than(&self, other: &ContainerCheck) -> bool {
        let ((executor, driver), (other_executor, other_driver)) =
            (self.containers(), other.containers());
        executor <= other_executor
            && driver <= other_driver
            && self.executor_cores <= other.executor_cores
    }

    /// The executor's and the driver's containers: heap plus explicit or default overhead, MiB.
    fn containers(&self) -> (f64, f64) {
        let container = |heap: f64, overhead: Option<f64>| {
            heap + overhead.unwrap_or_else(|| spark::default_overhead_mib(heap))
        };
        (
            container(self.executor_heap, self.executor_overhead),
            container(self.driver_heap, self.driver_overhead),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_spaces_are_valid() {
        let spaces = SearchSpaces::from_yaml(BUILT_IN, "built-in").expect("valid");
        assert!(!spaces.settings_for(Category::ExecutorOom).is_empty());
        assert!(spaces.settings_for(Category::Unclassified).is_empty());
        assert!(spaces.settings_for(Category::UserCodeError).is_empty());
    }

    #[test]
    fn levels_are_written_as_spark_reads_them() {
        let setting = |kind, unit, min, max, step| Setting {
            key: "spark.x".to_owned(),
            kind,
            unit,
            min: Some(min),
            max: Some(max),
            step: Some(step),
            values: None,
            never_below_original: false,
            never_above_original: false,
            within_factor_of_original: None,
            heuristic_floor_factor: None,
        };
        let continuous =
            levels(&setting(SettingKind::Continuous, None, 0.4, 0.8, 0.05)).expect("valid");
        let texts: Vec<&str> = continuous.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "0.40", "0.45", "0.50", "0.55", "0.60", "0.65", "0.70", "0.75", "0.80"
            ]
        );
        let memory = levels(&setting(
            SettingKind::Integer,
            Some(IntegerUnit::Mib),
            1024.0,
            2048.0,
            512.0,
        ))
        .expect("valid");
        assert_eq!(
            memory,
            [
                ("1024m".to_owned(), Some(1024.0)),
                ("1536m".to_owned(), Some(1536.0)),
                ("2048m".to_owned(), Some(2048.0))
            ]
        );
        assert!(levels(&setting(SettingKind::Integer, None, 1.0, 8.0, 0.5)).is_err());
    }

    #[test]
    fn a_floor_removes_smaller_values_and_nearest_finds_the_original() {
        let spaces = SearchSpaces::built_in();
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "4g");
        original.set("spark.executor.cores", "4");
        let grid = Grid::new(spaces.settings_for(Category::ExecutorOom), &original, None);
        let memory = &grid.dimensions[0];
        assert_eq!(memory.texts[0], "4096m");
        let nearest = grid.nearest(&original);
        assert_eq!(nearest[0], 0);
        assert_eq!(grid.dimensions[1].texts[usize::from(nearest[1])], "4");
        let config = grid.config(&original, &nearest);
        assert_eq!(config.get("spark.executor.memory"), Some("4g"));
        // Within a factor of the original: 4 GiB to 16 GiB of heap; 2 to 4 cores (never more tasks sharing the heap
        // that ran out).
        assert_eq!(memory.texts.last().map(String::as_str), Some("16384m"));
        let cores = &grid.dimensions[1];
        assert_eq!(
            (
                cores.texts[0].as_str(),
                cores.texts.last().map(String::as_str)
            ),
            ("2", Some("4"))
        );
    }

    #[test]
    fn the_heuristics_step_on_the_memory_that_ran_out_is_a_floor_up_to_its_factor() {
        let spaces = SearchSpaces::built_in();
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "4g");
        original.set("spark.executor.memoryOverhead", "512m");
        // The heuristics give the container's overhead 1280m, more than twice 512m: the model's overhead starts at
        // the first level from 1024m.
        let mut heuristic = original.clone();
        heuristic.set("spark.executor.memoryOverhead", "1280m");
        let container = spaces.settings_for(Category::ContainerMemoryExceeded);
        let grid = Grid::new(container, &original, Some(&heuristic));
        assert_eq!(grid.dimensions[0].key, "spark.executor.memoryOverhead");
        assert_eq!(grid.dimensions[0].texts[0], "1152m");
        // The heap has no floor of that kind there: it may stay.
        assert_eq!(grid.dimensions[1].texts[0], "4096m");
        // A heuristic step of × 4 on the heap floors the model at × 2 (the factor), not × 4; a smaller step is the
        // floor itself.
        heuristic.set("spark.executor.memory", "16g");
        let grid = Grid::new(
            spaces.settings_for(Category::ExecutorOom),
            &original,
            Some(&heuristic),
        );
        assert_eq!(grid.dimensions[0].texts[0], "8192m");
        heuristic.set("spark.executor.memory", "6g");
        let grid = Grid::new(
            spaces.settings_for(Category::ExecutorOom),
            &original,
            Some(&heuristic),
        );
        assert_eq!(grid.dimensions[0].texts[0], "6144m");
        // Without the heuristics' answer there is no such floor.
        let grid = Grid::new(spaces.settings_for(Category::ExecutorOom), &original, None);
        assert_eq!(grid.dimensions[0].texts[0], "4096m");
    }

    #[test]
    fn an_unset_overhead_is_spark_default_so_a_retry_never_gets_less() {
        let spaces = SearchSpaces::built_in();
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "10g");
        let grid = Grid::new(
            spaces.settings_for(Category::ContainerMemoryExceeded),
            &original,
            None,
        );
        let overhead = &grid.dimensions[0];
        assert_eq!(overhead.key, "spark.executor.memoryOverhead");
        // Spark's default is 10 % of 10 GiB, 1024 MiB: levels (384 + 256 k) from it to 4x it.
        assert_eq!(overhead.numbers.first().copied().flatten(), Some(1152.0));
        assert_eq!(overhead.numbers.last().copied().flatten(), Some(3968.0));
    }

    #[test]
    fn containers_are_checked_with_spark_default_overhead() {
        let limits = Limits {
            max_container_mib: 8192,
            max_executor_cores: 4,
        };
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "7g");
        // 7168 + max(384, 716.8) = 7884.8 ≤ 8192.
        assert!(ContainerCheck::new(&original, limits).within_limits());
        original.set("spark.executor.memory", "7500m");
        assert!(!ContainerCheck::new(&original, limits).within_limits());
        original.set("spark.executor.memory", "4g");
        original.set("spark.executor.cores", "5");
        assert!(!ContainerCheck::new(&original, limits).within_limits());
    }
}
