//! How a request names its failure: exactly one of its classification, its category (with the rule, if known) or
//! its logs. `recommend` and `remediate` requests carry the same four fields.

use medic_api::{LogText, RecommendRequest, RemediateRequest};
use medic_core::{Category, Classification, JobIdentity, ScanStats};
use medic_rules::RuleSet;

/// The failure as a request gives it.
pub(crate) struct FailureGiven<'a> {
    /// The job, for the rules scoped to it.
    pub job: &'a JobIdentity,
    /// The classification, as `medic classify --json` prints it.
    pub classification: Option<&'a Classification>,
    /// The category.
    pub category: Option<Category>,
    /// The rule that gave the category.
    pub rule: Option<&'a str>,
    /// The logs, to classify here.
    pub logs: &'a [LogText],
}

impl<'a> FailureGiven<'a> {
    /// The failure as a recommend request gives it.
    pub fn of_recommend(request: &'a RecommendRequest) -> Self {
        FailureGiven {
            job: &request.job,
            classification: request.classification.as_ref(),
            category: request.category,
            rule: request.rule.as_deref(),
            logs: &request.logs,
        }
    }

    /// The failure as a remediate request gives it.
    pub fn of_remediate(request: &'a RemediateRequest) -> Self {
        FailureGiven {
            job: &request.job,
            classification: request.classification.as_ref(),
            category: request.category,
            rule: request.rule.as_deref(),
            logs: &request.logs,
        }
    }

    /// Why the failure cannot be known from the request, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let given = [
            self.classification.is_some(),
            self.category.is_some(),
            !self.logs.is_empty(),
        ]
        .iter()
        .filter(|given| **given)
        .count();
        (given != 1).then(|| {
            "give exactly one of `classification`, `category` (with `rule`) or `logs`".to_owned()
        })
    }

    /// The failure's classification: the one given; one made from the category given (whose `restartable` and
    /// summary are the named rule's when the rule packs have it for this job, else not restartable); or the logs
    /// classified with the rule packs, where rules scoped to the job apply. Call only when
    /// [`FailureGiven::problem`] found none.
    pub fn classify(&self, rules: &RuleSet) -> Classification {
        if let Some(classification) = self.classification {
            return classification.clone();
        }
        if let Some(category) = self.category {
            let known = self.rule.and_then(|name| {
                rules.rules().iter().find(|rule| {
                    rule.name == name
                        && rule.category == category
                        && rule.applies_to(Some(self.job))
                })
            });
            let mut classification = Classification::unclassified(ScanStats::default(), Vec::new());
            classification.category = category;
            classification.memory_config = category.is_memory_config();
            classification.rule = self.rule.map(str::to_owned);
            classification.restartable = known.is_some_and(|rule| rule.restartable);
            classification.summary = known.map_or_else(
                || format!("Given as {category} by the caller; no logs were classified."),
                |rule| rule.summary.clone(),
            );
            return classification;
        }
        classify_logs(rules, self.job, self.logs)
    }
}

/// `logs` classified with `rules` for `job`.
pub(crate) fn classify_logs(
    rules: &RuleSet,
    job: &JobIdentity,
    logs: &[LogText],
) -> Classification {
    let mut classifier = rules.classifier(Some(job));
    for (i, log) in logs.iter().enumerate() {
        classifier.scan_reader(log.source, &format!("logs[{i}]"), log.text.as_bytes());
    }
    classifier.finish()
}
