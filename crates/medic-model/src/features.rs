//! Turning a failed job and a candidate configuration into model inputs.
//!
//! Two kinds of input:
//!
//! * **Numeric**: a fixed list of Spark settings (plus the job's input size), each read with its own unit rule,
//!   `log1p`-scaled (sizes in MiB) and standardised with a mean and standard deviation fitted on the training set
//!   only and saved in the [`FeatureSpec`]. A setting that is absent or unreadable encodes as 0 (the training mean)
//!   with its *missing* indicator set to 1; the [`FeatureStats`] counts both cases per feature. Nothing panics.
//! * **Hashed ids**: the job's high-cardinality fields (job id, workflow, owner, cluster, failure rule, failure
//!   category and each plan operator), each written `name=value` and hashed with seeded xxh3 into `2^k` buckets.
//!   xxh3 with a stored seed, not std's hasher, because std's is allowed to change between Rust releases and a
//!   saved model must keep meaning the same buckets. The model averages the embeddings of these bucket ids.

use medic_core::history::RetryRecord;
use medic_core::units::{SizeUnit, parse_size};
use medic_core::{Category, JobIdentity, SparkConf};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Default number of hash bits: 2^14 = 16 384 buckets.
pub const DEFAULT_HASH_BITS: u32 = 14;
/// Largest accepted number of hash bits (16 M buckets): beyond it the embedding table alone would not fit a
/// reasonable memory budget.
pub const MAX_HASH_BITS: u32 = 24;
/// Default cap on hashed ids per record; plans with more operators keep their first ones.
pub const DEFAULT_MAX_IDS: usize = 32;
/// Default hash seed (any fixed value; stored in the spec so that a model always hashes as it was trained).
pub const DEFAULT_HASH_SEED: u64 = 0x6e69_6768_7469_6e67;

const MIB: f64 = (1u64 << 20) as f64;

/// How a setting's text becomes a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumericUnit {
    /// A Spark size whose plain numbers are MiB (`spark.executor.memory`); encoded as MiB.
    SizeMib,
    /// A Spark size whose plain numbers are bytes; encoded as MiB.
    SizeBytes,
    /// A byte threshold where `-1` means "disabled" (`spark.sql.autoBroadcastJoinThreshold`); `-1` encodes as 0.
    ThresholdBytes,
    /// A non-negative plain number (cores, partitions, fractions).
    Number,
}

/// Where a numeric feature comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum NumericSource {
    /// A Spark setting of the candidate configuration.
    Setting {
        /// The Spark key.
        key: String,
        /// How its value is read.
        unit: NumericUnit,
    },
    /// The failed job's input size in bytes (encoded as MiB).
    InputBytes,
}

impl NumericSource {
    /// A setting source.
    pub fn setting(key: &str, unit: NumericUnit) -> Self {
        NumericSource::Setting {
            key: key.to_owned(),
            unit,
        }
    }

    /// The name reports use: the Spark key, or `input_bytes`.
    pub fn name(&self) -> &str {
        match self {
            NumericSource::Setting { key, .. } => key,
            NumericSource::InputBytes => "input_bytes",
        }
    }

    /// The default list: the memory, parallelism and join settings that decide whether a retry runs out of
    /// memory and what it costs, and the input size.
    pub fn defaults() -> Vec<NumericSource> {
        use NumericUnit::*;
        vec![
            NumericSource::setting("spark.executor.memory", SizeMib),
            NumericSource::setting("spark.executor.memoryOverhead", SizeMib),
            NumericSource::setting("spark.driver.memory", SizeMib),
            NumericSource::setting("spark.driver.memoryOverhead", SizeMib),
            NumericSource::setting("spark.executor.cores", Number),
            NumericSource::setting("spark.executor.instances", Number),
            NumericSource::setting("spark.sql.shuffle.partitions", Number),
            NumericSource::setting("spark.default.parallelism", Number),
            NumericSource::setting("spark.memory.fraction", Number),
            NumericSource::setting("spark.sql.autoBroadcastJoinThreshold", ThresholdBytes),
            NumericSource::InputBytes,
        ]
    }
}

/// One numeric feature with its normalisation, fitted on the training set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericFeature {
    /// Where the value comes from.
    pub source: NumericSource,
    /// Mean of the `log1p` value over the training records that had one.
    pub mean: f64,
    /// Standard deviation of the same (1 when the value was constant or never present).
    pub std: f64,
}

/// What one raw value turned out to be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawValue {
    /// A readable value, already `log1p`-scaled.
    Present(f64),
    /// The setting (or input size) is absent.
    Missing,
    /// The setting is there but unreadable (`"lots"`, `"-4g"`, `""`).
    Malformed,
}

/// Everything needed to turn records into model inputs; saved with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// The numeric features in input order.
    pub numeric: Vec<NumericFeature>,
    /// Ids hash into `2^hash_bits` buckets.
    pub hash_bits: u32,
    /// The xxh3 seed.
    pub hash_seed: u64,
    /// At most this many ids per record (the job's fields first, then plan operators).
    pub max_ids_per_record: usize,
}

/// Hashing settings for [`FeatureSpec::fit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashingConfig {
    /// Number of buckets is `2^bits` (1 to [`MAX_HASH_BITS`]).
    pub bits: u32,
    /// The xxh3 seed.
    pub seed: u64,
    /// Cap on ids per record (at least 1).
    pub max_ids_per_record: usize,
}

impl Default for HashingConfig {
    fn default() -> Self {
        HashingConfig {
            bits: DEFAULT_HASH_BITS,
            seed: DEFAULT_HASH_SEED,
            max_ids_per_record: DEFAULT_MAX_IDS,
        }
    }
}

/// Per-feature counts of values that could not be used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureCounts {
    /// The feature's name ([`NumericSource::name`]).
    pub name: String,
    /// Records where it was absent.
    pub missing: u64,
    /// Records where it was present but unreadable.
    pub malformed: u64,
}

/// What the encoder met: how many records, and per feature how many values were missing or malformed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureStats {
    /// Rows encoded (records or candidates).
    pub rows: u64,
    /// One entry per numeric feature, in spec order.
    pub features: Vec<FeatureCounts>,
    /// Records whose id bag was cut to `max_ids_per_record`.
    pub truncated_id_bags: u64,
}

impl FeatureStats {
    /// Zero counts for every feature of `spec`.
    pub fn new(spec: &FeatureSpec) -> Self {
        FeatureStats {
            rows: 0,
            features: spec
                .numeric
                .iter()
                .map(|f| FeatureCounts {
                    name: f.source.name().to_owned(),
                    missing: 0,
                    malformed: 0,
                })
                .collect(),
            truncated_id_bags: 0,
        }
    }

    /// The counts of the feature named `name`, if the spec has one.
    pub fn feature(&self, name: &str) -> Option<&FeatureCounts> {
        self.features.iter().find(|f| f.name == name)
    }
}

/// The failed job a retry is for: what the hashed ids and the input size come from. Every candidate configuration
/// of one optimisation shares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryContext {
    /// The job.
    pub job: JobIdentity,
    /// The category of the failure.
    pub failure_category: Category,
    /// The rule that classified it, if one did.
    #[serde(default)]
    pub failure_rule: Option<String>,
    /// Bytes of input, when known.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// Operator names of the Spark plan, when known.
    #[serde(default)]
    pub plan_operators: Vec<String>,
}

impl RetryContext {
    /// The context of a history record (its job, failure and input).
    pub fn of(record: &RetryRecord) -> Self {
        RetryContext {
            job: record.job.clone(),
            failure_category: record.failure_category,
            failure_rule: record.failure_rule.clone(),
            input_bytes: record.input_bytes,
            plan_operators: record.plan_operators.clone(),
        }
    }
}

/// Borrowed view of the fields that are hashed, so that training does not clone every record.
struct IdFields<'a> {
    job: &'a JobIdentity,
    category: Category,
    rule: Option<&'a str>,
    operators: &'a [String],
}

impl FeatureSpec {
    /// Fits the normalisation of `sources` on `training` (and only on it: validation and audit records must not
    /// leak into the means) and takes the hashing settings as given.
    pub fn fit<'a>(
        training: impl IntoIterator<Item = &'a RetryRecord>,
        sources: Vec<NumericSource>,
        hashing: HashingConfig,
    ) -> Result<FeatureSpec, String> {
        // Welford's running mean and variance: one pass, no catastrophic cancellation on large sizes.
        let mut acc = vec![(0u64, 0.0f64, 0.0f64); sources.len()];
        for record in training {
            for (source, (n, mean, m2)) in sources.iter().zip(acc.iter_mut()) {
                if let RawValue::Present(x) = raw_value(source, &record.config, record.input_bytes)
                {
                    *n += 1;
                    let delta = x - *mean;
                    *mean += delta / *n as f64;
                    *m2 += delta * (x - *mean);
                }
            }
        }
        let numeric = sources
            .into_iter()
            .zip(acc)
            .map(|(source, (n, mean, m2))| {
                let std = if n > 1 { (m2 / n as f64).sqrt() } else { 0.0 };
                NumericFeature {
                    source,
                    mean: json_exact(mean),
                    std: json_exact(if std > 1e-6 { std } else { 1.0 }),
                }
            })
            .collect();
        let spec = FeatureSpec {
            numeric,
            hash_bits: hashing.bits,
            hash_seed: hashing.seed,
            max_ids_per_record: hashing.max_ids_per_record,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Every reason this spec cannot be used (a loaded file may have been edited by hand).
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if !(1..=MAX_HASH_BITS).contains(&self.hash_bits) {
            problems.push(format!(
                "hash_bits is {}, expected 1 to {MAX_HASH_BITS}",
                self.hash_bits
            ));
        }
        if self.max_ids_per_record == 0 {
            problems.push("max_ids_per_record is 0".to_owned());
        }
        for feature in &self.numeric {
            if !(feature.mean.is_finite() && feature.std.is_finite() && feature.std > 0.0) {
                problems.push(format!(
                    "feature `{}` has mean {} and std {}",
                    feature.source.name(),
                    feature.mean,
                    feature.std
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Number of hash buckets, `2^hash_bits`.
    pub fn buckets(&self) -> usize {
        1usize << self.hash_bits.min(MAX_HASH_BITS)
    }

    /// Width of the numeric input: one value and one missing indicator per feature.
    pub fn numeric_width(&self) -> usize {
        2 * self.numeric.len()
    }

    /// Writes the numeric input of one row into `out` (length [`numeric_width`](Self::numeric_width)): the
    /// standardised values first, then the missing indicators. Counts absent and unreadable values in `stats`.
    pub fn encode_numeric(
        &self,
        config: &SparkConf,
        input_bytes: Option<u64>,
        out: &mut [f32],
        mut stats: Option<&mut FeatureStats>,
    ) {
        let n = self.numeric.len();
        if let Some(stats) = stats.as_deref_mut() {
            stats.rows += 1;
        }
        for (i, feature) in self.numeric.iter().enumerate() {
            let raw = raw_value(&feature.source, config, input_bytes);
            let (value, missing) = match raw {
                RawValue::Present(x) => (((x - feature.mean) / feature.std) as f32, 0.0),
                RawValue::Missing | RawValue::Malformed => (0.0, 1.0),
            };
            if let Some(slot) = out.get_mut(i) {
                *slot = value;
            }
            if let Some(slot) = out.get_mut(n + i) {
                *slot = missing;
            }
            if let Some(counts) = stats.as_deref_mut().and_then(|s| s.features.get_mut(i)) {
                match raw {
                    RawValue::Missing => counts.missing += 1,
                    RawValue::Malformed => counts.malformed += 1,
                    RawValue::Present(_) => {}
                }
            }
        }
    }

    /// How far `config`'s value of each numeric feature named in `names` (a Spark key, or `input_bytes`) lies from
    /// the training records' values, in standard deviations of their `log1p`: `(name, score)` for each one present
    /// and readable. A model's answers far outside the data it learned from are guesses.
    pub fn standard_scores<'a>(
        &'a self,
        config: &SparkConf,
        input_bytes: Option<u64>,
        names: &[&str],
    ) -> Vec<(&'a str, f64)> {
        self.numeric
            .iter()
            .filter(|feature| names.contains(&feature.source.name()))
            .filter_map(
                |feature| match raw_value(&feature.source, config, input_bytes) {
                    RawValue::Present(x) => {
                        Some((feature.source.name(), (x - feature.mean) / feature.std))
                    }
                    RawValue::Missing | RawValue::Malformed => None,
                },
            )
            .collect()
    }

    /// The two cells (column and value) that setting `key` with value `text` (`None`: absent) occupies in a
    /// numeric row, or `None` when the model has no input for `key`: what [`encode_numeric`](Self::encode_numeric)
    /// would write for it, so that an optimiser can change one setting of an encoded row without re-reading the
    /// others.
    pub fn encode_setting(&self, key: &str, text: Option<&str>) -> Option<[(usize, f32); 2]> {
        let n = self.numeric.len();
        self.numeric.iter().enumerate().find_map(|(i, feature)| {
            let NumericSource::Setting { key: own, unit } = &feature.source else {
                return None;
            };
            if own != key {
                return None;
            }
            let raw = text.map_or(RawValue::Missing, |text| raw_setting(*unit, text));
            let (value, missing) = match raw {
                RawValue::Present(x) => (((x - feature.mean) / feature.std) as f32, 0.0),
                RawValue::Missing | RawValue::Malformed => (0.0, 1.0),
            };
            Some([(i, value), (n + i, missing)])
        })
    }

    /// Appends the hashed ids of `context` to `out` (after clearing it).
    pub fn hash_ids(
        &self,
        context: &RetryContext,
        out: &mut Vec<u32>,
        stats: Option<&mut FeatureStats>,
    ) {
        self.hash_fields(
            &IdFields {
                job: &context.job,
                category: context.failure_category,
                rule: context.failure_rule.as_deref(),
                operators: &context.plan_operators,
            },
            out,
            stats,
        );
    }

    /// Appends the hashed ids of a history record to `out` (after clearing it); the same ids as
    /// `hash_ids(&RetryContext::of(record))`, without the copy.
    pub fn hash_record_ids(
        &self,
        record: &RetryRecord,
        out: &mut Vec<u32>,
        stats: Option<&mut FeatureStats>,
    ) {
        self.hash_fields(
            &IdFields {
                job: &record.job,
                category: record.failure_category,
                rule: record.failure_rule.as_deref(),
                operators: &record.plan_operators,
            },
            out,
            stats,
        );
    }

    /// The bucket of one `name=value` field.
    pub fn bucket(&self, name: &str, value: &str) -> u32 {
        let mut scratch = Vec::with_capacity(name.len() + value.len() + 1);
        self.bucket_with(&mut scratch, name, value)
    }

    fn bucket_with(&self, scratch: &mut Vec<u8>, name: &str, value: &str) -> u32 {
        scratch.clear();
        scratch.extend_from_slice(name.as_bytes());
        scratch.push(b'=');
        scratch.extend_from_slice(value.as_bytes());
        let mask = (self.buckets() - 1) as u64;
        (xxh3_64_with_seed(scratch, self.hash_seed) & mask) as u32
    }

    fn hash_fields(
        &self,
        fields: &IdFields<'_>,
        out: &mut Vec<u32>,
        stats: Option<&mut FeatureStats>,
    ) {
        out.clear();
        let mut scratch = Vec::with_capacity(64);
        let job = fields.job;
        // Absent optional fields add no id rather than a shared "absent" id, which would pull unrelated jobs
        // together.
        let named = [
            ("job", Some(job.id.as_str())),
            ("workflow", job.workflow.as_deref()),
            ("owner", job.owner.as_deref()),
            ("cluster", job.cluster.as_deref()),
            ("category", Some(fields.category.as_str())),
            ("rule", fields.rule),
        ];
        for (name, value) in named {
            if let Some(value) = value {
                out.push(self.bucket_with(&mut scratch, name, value));
            }
        }
        let room = self.max_ids_per_record.saturating_sub(out.len());
        for operator in fields.operators.iter().take(room) {
            out.push(self.bucket_with(&mut scratch, "op", operator));
        }
        out.truncate(self.max_ids_per_record.max(1));
        if fields.operators.len() > room
            && let Some(stats) = stats
        {
            stats.truncated_id_bags += 1;
        }
    }
}

/// `x` rounded to 12 decimal places. serde_json's default float parser is not correctly rounded for 17-digit
/// numbers, so a fitted mean could read back one ulp off and a loaded model would not predict bit for bit what it
/// did when saved. A number with at most 12 decimals and a magnitude below 10^3 (every `log1p` of an f64 is) has
/// at most 15 significant digits, which the parser's exact path reads back unchanged.
pub(crate) fn json_exact(x: f64) -> f64 {
    if x.is_finite() && x.abs() < 1e3 {
        (x * 1e12).round() / 1e12
    } else {
        x
    }
}

/// Reads one raw value of `source`, `log1p`-scaled (sizes in MiB).
pub fn raw_value(source: &NumericSource, config: &SparkConf, input_bytes: Option<u64>) -> RawValue {
    let (key, unit) = match source {
        NumericSource::InputBytes => {
            return match input_bytes {
                Some(bytes) => RawValue::Present((bytes as f64 / MIB).ln_1p()),
                None => RawValue::Missing,
            };
        }
        NumericSource::Setting { key, unit } => (key, *unit),
    };
    match config.get(key) {
        Some(text) => raw_setting(unit, text),
        None => RawValue::Missing,
    }
}

/// Reads one setting's text with its unit rule, `log1p`-scaled (sizes in MiB).
pub fn raw_setting(unit: NumericUnit, text: &str) -> RawValue {
    let number = match unit {
        NumericUnit::SizeMib => parse_size(text, SizeUnit::Mib).ok().map(|b| b as f64 / MIB),
        NumericUnit::SizeBytes => parse_size(text, SizeUnit::Bytes)
            .ok()
            .map(|b| b as f64 / MIB),
        NumericUnit::ThresholdBytes if text.trim() == "-1" => Some(0.0),
        NumericUnit::ThresholdBytes => parse_size(text, SizeUnit::Bytes)
            .ok()
            .map(|b| b as f64 / MIB),
        NumericUnit::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0),
    };
    match number {
        Some(x) => RawValue::Present(x.ln_1p()),
        None => RawValue::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec::fit(
            std::iter::empty(),
            NumericSource::defaults(),
            HashingConfig::default(),
        )
        .expect("valid")
    }

    #[test]
    fn raw_values_follow_each_unit_rule() {
        let mut conf = SparkConf::new();
        let cases: &[(&str, NumericUnit, &str, RawValue)] = &[
            (
                "a",
                NumericUnit::SizeMib,
                "4g",
                RawValue::Present(4096f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::SizeMib,
                "4096",
                RawValue::Present(4096f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::SizeMib,
                "1.5g",
                RawValue::Present(1536f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::SizeBytes,
                "1048576",
                RawValue::Present(1f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::ThresholdBytes,
                "-1",
                RawValue::Present(0.0),
            ),
            (
                "a",
                NumericUnit::ThresholdBytes,
                "10m",
                RawValue::Present(10f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::Number,
                " 4 ",
                RawValue::Present(4f64.ln_1p()),
            ),
            (
                "a",
                NumericUnit::Number,
                "0.6",
                RawValue::Present(0.6f64.ln_1p()),
            ),
            ("a", NumericUnit::SizeMib, "-4g", RawValue::Malformed),
            ("a", NumericUnit::SizeMib, "lots", RawValue::Malformed),
            ("a", NumericUnit::SizeMib, "", RawValue::Malformed),
            ("a", NumericUnit::Number, "-2", RawValue::Malformed),
            ("a", NumericUnit::Number, "NaN", RawValue::Malformed),
            ("a", NumericUnit::Number, "inf", RawValue::Malformed),
            ("a", NumericUnit::ThresholdBytes, "-2", RawValue::Malformed),
        ];
        for (key, unit, text, expected) in cases {
            conf.set(*key, *text);
            let got = raw_value(&NumericSource::setting(key, *unit), &conf, None);
            assert_eq!(got, *expected, "{text} as {unit:?}");
        }
        let absent = NumericSource::setting("spark.absent", NumericUnit::Number);
        assert_eq!(raw_value(&absent, &conf, None), RawValue::Missing);
        assert_eq!(
            raw_value(&NumericSource::InputBytes, &conf, None),
            RawValue::Missing
        );
    }

    #[test]
    fn normalisation_is_fitted_on_the_given_records_only() {
        let records =
            crate::synthetic::generate(&crate::synthetic::SyntheticConfig::default(), 500);
        let spec = FeatureSpec::fit(
            &records[..400],
            NumericSource::defaults(),
            HashingConfig::default(),
        )
        .expect("valid");
        // Re-encoding the training part gives mean ≈ 0 and std ≈ 1 over the present executor memories.
        let mut row = vec![0f32; spec.numeric_width()];
        let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
        for record in &records[..400] {
            spec.encode_numeric(&record.config, record.input_bytes, &mut row, None);
            if row[spec.numeric.len()] == 0.0 {
                sum += f64::from(row[0]);
                sum_sq += f64::from(row[0]).powi(2);
                n += 1.0;
            }
        }
        assert!(n > 300.0);
        assert!((sum / n).abs() < 1e-4, "mean {}", sum / n);
        assert!(((sum_sq / n) - 1.0).abs() < 1e-3, "var {}", sum_sq / n);
        let other = FeatureSpec::fit(
            &records[100..],
            NumericSource::defaults(),
            HashingConfig::default(),
        )
        .expect("valid");
        assert_ne!(spec.numeric[0].mean, other.numeric[0].mean);
    }

    #[test]
    fn ids_are_name_prefixed_seeded_and_capped() {
        let spec = spec();
        assert_ne!(spec.bucket("owner", "x"), spec.bucket("workflow", "x"));
        let reseeded = FeatureSpec {
            hash_seed: 7,
            ..spec.clone()
        };
        let names: Vec<String> = (0..50).map(|i| format!("team-{i}")).collect();
        let moved = names
            .iter()
            .filter(|n| spec.bucket("owner", n) != reseeded.bucket("owner", n))
            .count();
        assert!(moved > 40, "a new seed moves almost every id ({moved}/50)");
        // Stable across Rust releases and platforms: pinned values.
        assert_eq!(spec.bucket("owner", "data-eng"), 1098);
        let context = RetryContext {
            job: JobIdentity {
                id: "j".into(),
                workflow: None,
                owner: Some("o".into()),
                cluster: None,
            },
            failure_category: Category::ExecutorOom,
            failure_rule: None,
            input_bytes: None,
            plan_operators: (0..100).map(|i| format!("Op{i}")).collect(),
        };
        let mut ids = Vec::new();
        let mut stats = FeatureStats::new(&spec);
        spec.hash_ids(&context, &mut ids, Some(&mut stats));
        assert_eq!(ids.len(), DEFAULT_MAX_IDS);
        assert_eq!(ids[0], spec.bucket("job", "j"));
        assert_eq!(ids[1], spec.bucket("owner", "o"));
        assert_eq!(ids[2], spec.bucket("category", "executor_oom"));
        assert_eq!(ids[3], spec.bucket("op", "Op0"));
        assert!(ids.iter().all(|&id| (id as usize) < spec.buckets()));
        assert_eq!(stats.truncated_id_bags, 1);
    }

    proptest::proptest! {
        #[test]
        fn fitted_statistics_read_back_from_json_unchanged(x in -709.0f64..709.0) {
            let stored = json_exact(x);
            let text = serde_json::to_string(&stored).expect("serialize");
            let back: f64 = serde_json::from_str(&text).expect("parse");
            proptest::prop_assert_eq!(back.to_bits(), stored.to_bits(), "{}", text);
        }
    }

    #[test]
    fn spec_round_trips_through_json_and_refuses_bad_values() {
        let spec = spec();
        let json = serde_json::to_string(&spec).expect("serialize");
        let back: FeatureSpec = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, spec);
        for bad in [
            FeatureSpec {
                hash_bits: 0,
                ..spec.clone()
            },
            FeatureSpec {
                hash_bits: 40,
                ..spec.clone()
            },
            FeatureSpec {
                max_ids_per_record: 0,
                ..spec.clone()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
