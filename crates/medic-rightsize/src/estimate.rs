//! The estimators: a recommended size from the peaks of a job's successful runs. They are the anchors the issue
//! names, side by side so that the simulator can measure them on the same fleet (docs/BENCHMARKS.md); the
//! guard-rails (`plan`) apply to every one of them.

use crate::policy::Estimator;

const MIB: f64 = (1u64 << 20) as f64;

/// One successful run's peak use of a memory setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// How long ago the run was, in days.
    pub age_days: f64,
    /// Its peak use, in bytes.
    pub bytes: u64,
}

/// The size `estimator` proposes for `samples` (not empty), in bytes, before the guard-rails.
pub fn estimate(estimator: Estimator, samples: &[Sample], margin: f64) -> u64 {
    let largest = samples.iter().map(|s| s.bytes).max().unwrap_or(0) as f64;
    let bytes = match estimator {
        Estimator::Autopilot => largest * (1.0 + margin),
        Estimator::Vpa => decayed_percentile(samples, 0.9, 1.0) * 1.15,
        Estimator::Elephant => (largest * 1.25 + 300.0 * MIB).max(640.0 * MIB),
    };
    bytes.ceil() as u64
}

/// The `percentile` of `samples` weighted by `0.5^(age / half_life_days)`: VPA's decaying histogram, with every
/// sample its own bucket (VPA's buckets are 5 % apart; a job has a few dozen runs, not millions of samples).
pub fn decayed_percentile(samples: &[Sample], percentile: f64, half_life_days: f64) -> f64 {
    let mut weighted: Vec<(u64, f64)> = samples
        .iter()
        .map(|s| (s.bytes, 0.5f64.powf(s.age_days.max(0.0) / half_life_days)))
        .collect();
    weighted.sort_by_key(|&(bytes, _)| bytes);
    let total: f64 = weighted.iter().map(|&(_, w)| w).sum();
    let mut seen = 0.0;
    for &(bytes, weight) in &weighted {
        seen += weight;
        if seen >= percentile * total {
            return bytes as f64;
        }
    }
    weighted.last().map_or(0.0, |&(bytes, _)| bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gib(x: f64) -> u64 {
        (x * 1024.0 * MIB) as u64
    }

    #[test]
    fn each_estimator_follows_its_anchor() {
        let samples: Vec<Sample> = (0..10)
            .map(|day| Sample {
                age_days: f64::from(day),
                bytes: gib(1.0 + 0.1 * f64::from(day)),
            })
            .collect();
        // The largest peak (1.9 GiB, ten days old) plus 10 %.
        assert_eq!(
            estimate(Estimator::Autopilot, &samples, 0.1),
            (gib(1.9) as f64 * 1.1).ceil() as u64
        );
        // × 1.25 + 300 MiB.
        assert_eq!(
            estimate(Estimator::Elephant, &samples, 0.1),
            (gib(1.9) as f64 * 1.25 + 300.0 * MIB).ceil() as u64
        );
        // Recent runs weigh most: the 90th percentile of a decayed histogram sits among the newest peaks.
        let vpa = estimate(Estimator::Vpa, &samples, 0.1);
        assert!(vpa < gib(1.9), "{vpa}");
        assert!(vpa >= (gib(1.0) as f64 * 1.15) as u64);
        // Dr. Elephant's floor.
        let tiny = [Sample {
            age_days: 0.0,
            bytes: 100 << 20,
        }];
        assert_eq!(estimate(Estimator::Elephant, &tiny, 0.1), 640 << 20);
    }
}
