//! Which of medic's roles a server plays. One `medic serve` plays all three by default; `--roles` splits them
//! over several processes on the same store, which then call each other over HTTP.
//!
//! * `classify` (Pensive): the remediation flow (`/v1/remediate`, `/v1/mode`) and `/v1/classify`. It writes its
//!   patches to the shared store, and asks for recommendations over HTTP when it does not also recommend.
//! * `recommend` (Nightingale): `/v1/recommend`, with the promoted model. The CPU-heavy role.
//! * `config` (ConfigService): patches, resolution, run reports, the audit trail and the history.

use std::fmt;
use std::str::FromStr;

/// One role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceRole {
    /// Classification and the remediation flow.
    Classify,
    /// Recommendations.
    Recommend,
    /// The ConfigService.
    Config,
}

impl ServiceRole {
    /// Every role.
    pub const ALL: [ServiceRole; 3] = [
        ServiceRole::Classify,
        ServiceRole::Recommend,
        ServiceRole::Config,
    ];

    /// The name used by `--roles`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceRole::Classify => "classify",
            ServiceRole::Recommend => "recommend",
            ServiceRole::Config => "config",
        }
    }
}

impl fmt::Display for ServiceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceRole::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (expected classify, recommend or config)"))
    }
}

/// The roles a server plays, and where the recommender is when it is not one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles {
    played: Vec<ServiceRole>,
    /// The base URL of a server playing `recommend`, for a server that does not.
    pub recommend_url: Option<String>,
}

impl Default for Roles {
    /// All three roles in one process.
    fn default() -> Self {
        Roles {
            played: ServiceRole::ALL.to_vec(),
            recommend_url: None,
        }
    }
}

impl Roles {
    /// `played` (at least one), with `recommend_url` for the recommender when `classify` is played without
    /// `recommend`.
    pub fn new(played: &[ServiceRole], recommend_url: Option<String>) -> Result<Self, String> {
        let mut played = played.to_vec();
        played.sort();
        played.dedup();
        if played.is_empty() {
            return Err("a server must play at least one role".to_owned());
        }
        let classify_alone =
            played.contains(&ServiceRole::Classify) && !played.contains(&ServiceRole::Recommend);
        match (classify_alone, &recommend_url) {
            (true, None) => Err(
                "the classify role without the recommend role needs the recommender's URL (--recommend-url)"
                    .to_owned(),
            ),
            (false, Some(_)) => Err(
                "--recommend-url is only for a server that plays classify without recommend".to_owned(),
            ),
            _ => Ok(Roles {
                played,
                recommend_url: recommend_url.map(|url| url.trim_end_matches('/').to_owned()),
            }),
        }
    }

    /// Whether `role` is played here.
    pub fn plays(&self, role: ServiceRole) -> bool {
        self.played.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_names_where_the_recommender_is() {
        let all = Roles::default();
        assert!(ServiceRole::ALL.iter().all(|role| all.plays(*role)));
        assert!(Roles::new(&[], None).is_err());
        assert!(Roles::new(&[ServiceRole::Classify], None).is_err());
        assert!(Roles::new(&[ServiceRole::Recommend], Some("http://x".to_owned())).is_err());
        let front = Roles::new(
            &[ServiceRole::Config, ServiceRole::Classify],
            Some("http://recommender:8080/".to_owned()),
        )
        .expect("valid");
        assert!(front.plays(ServiceRole::Classify) && !front.plays(ServiceRole::Recommend));
        assert_eq!(
            front.recommend_url.as_deref(),
            Some("http://recommender:8080")
        );
        assert_eq!("config".parse::<ServiceRole>(), Ok(ServiceRole::Config));
        assert!("nightingale".parse::<ServiceRole>().is_err());
    }
}
