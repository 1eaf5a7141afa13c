//! `medic serve`: medic's whole API over HTTP (remediation, recommendations, classification, the ConfigService).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use medic_core::clock::SystemClock;
use medic_server::{AppState, Role, Tokens};
use medic_store::Store;

use super::DEFAULT_DB;

/// Arguments of `medic serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store: `sqlite://PATH` (created on first use) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
    /// The address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// A YAML file of tokens: `tokens: [{name, role: reader|writer|admin, token}]`. `MEDIC_ADMIN_TOKEN` in the
    /// environment adds an admin token named `admin`. Without any token the API is read-only.
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Refuse request bodies larger than this many bytes (413).
    #[arg(long, default_value_t = medic_server::DEFAULT_BODY_LIMIT, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Close a connection that has not sent a request's headers this long after it opened or after its last
    /// answer (idle keep-alive connections too).
    #[arg(long, default_value = "10s", value_name = "PERIOD", value_parser = parse_period)]
    header_read_timeout: std::time::Duration,
    /// Answer 408 to a request not read and answered within this.
    #[arg(long, default_value = "60s", value_name = "PERIOD", value_parser = parse_period)]
    request_timeout: std::time::Duration,
    /// Serve at most this many connections at once; more wait in the listen backlog.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// On SIGTERM or Ctrl-C, give the requests in flight this long to finish, then drop what is left.
    #[arg(long, default_value = "10s", value_name = "PERIOD", value_parser = parse_period)]
    shutdown_grace: std::time::Duration,
    /// Answer `POST /v1/config/resolve` without a token, for schedulers that cannot send one. The configurations it
    /// returns carry the patches' secrets: use it only where the network is trusted.
    #[arg(long)]
    anonymous_resolve: bool,
    /// The recommender's search spaces, policy and cluster limits (default: the built-in file).
    #[arg(long, value_name = "FILE")]
    spaces: Option<PathBuf>,
    /// The remediation flow's guard-rails (YAML: `max_attempts_per_run`, `max_retries_per_job_per_day`,
    /// `max_recommendations_without_success`, `prices`; unset fields keep their defaults of 4, 10, 2).
    #[arg(long, value_name = "FILE")]
    guards: Option<PathBuf>,
    /// Start in shadow mode: medic classifies and recommends but stores no patch, and retries follow the rules
    /// alone. `PUT /v1/mode` switches it at run time.
    #[arg(long)]
    shadow: bool,
    /// The roles this server plays: classify (the remediation flow), recommend, config (the ConfigService);
    /// all three by default. Split them over processes on the same store with `--recommend-url`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "classify,recommend,config",
        value_name = "ROLES"
    )]
    roles: Vec<medic_server::ServiceRole>,
    /// Where the recommend role is served (`http://HOST:PORT`), for a server that plays classify without it.
    #[arg(long, value_name = "URL")]
    recommend_url: Option<String>,
    /// Right-size every job this often (`90s`, `30m`, `6h`, `1d`): what `medic rightsize --apply` does, in the
    /// server, audited as `medic-rightsize`. Off unless given.
    #[arg(long, value_name = "PERIOD", value_parser = parse_period)]
    rightsize_every: Option<std::time::Duration>,
    /// The right-sizing policy of `--rightsize-every` (YAML, as `medic rightsize --policy`).
    #[arg(long, value_name = "FILE", requires = "rightsize_every")]
    rightsize_policy: Option<PathBuf>,
    #[command(flatten)]
    rules: super::RulesArgs,
}

/// `90s`, `30m`, `6h`, `1d` (a number and a unit; at least a second).
fn parse_period(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown unit `{other}` (s, m, h or d)")),
    };
    match number.checked_mul(seconds) {
        Some(0) | None => Err(format!("`{text}` is not a usable period")),
        Some(total) => Ok(std::time::Duration::from_secs(total)),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut tokens = Tokens::new();
    if let Some(path) = &args.tokens {
        tokens.add_file(path)?;
    }
    if let Ok(token) = std::env::var("MEDIC_ADMIN_TOKEN") {
        tokens
            .add("admin", Role::Admin, &token)
            .map_err(|reason| anyhow::anyhow!("MEDIC_ADMIN_TOKEN: {reason}"))?;
    }
    let guards = match &args.guards {
        Some(path) => medic_service::RemediationPolicy::from_yaml(
            &super::read_text(path)?,
            &path.display().to_string(),
        )?,
        None => medic_service::RemediationPolicy::default(),
    };
    super::runtime()?.block_on(async {
        let store = Store::open(&args.db, Arc::new(SystemClock))
            .await
            .with_context(|| {
                format!(
                    "cannot open the store {}",
                    medic_store::redact_url(&args.db)
                )
            })?;
        if tokens.is_empty() {
            tracing::warn!(
                "no tokens configured (--tokens FILE or MEDIC_ADMIN_TOKEN): the API is read-only"
            );
        }
        let token_count = tokens.len();
        let roles = medic_server::Roles::new(&args.roles, args.recommend_url.clone())
            .map_err(|reason| anyhow::anyhow!("--roles: {reason}"))?;
        let mut state = AppState::new(store, tokens);
        state.body_limit = args.max_body_bytes;
        state.anonymous_resolve = args.anonymous_resolve;
        if args.anonymous_resolve {
            tracing::warn!(
                "--anonymous-resolve: POST /v1/config/resolve answers without a token, secrets included"
            );
        }
        state.service.rules = medic_service::Rules::given(args.rules.load()?);
        state.service.policy = guards;
        if args.spaces.is_some() {
            state
                .service
                .set_spaces(super::load_spaces(args.spaces.as_deref())?);
        }
        // After the spaces: a server that does not recommend itself asks the one at --recommend-url.
        let state = state.with_roles(roles);
        state
            .service
            .shadow
            .store(args.shadow, std::sync::atomic::Ordering::SeqCst);
        if let Some(period) = args.rightsize_every {
            let policy = super::rightsize::load_policy(args.rightsize_policy.as_deref())?;
            medic_rightsize::schedule(state.service.store.clone(), policy, period);
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr()?;
        // Scripts and tests wait for this line; it goes to stderr with the logs.
        let roles: Vec<&str> = medic_server::ServiceRole::ALL
            .into_iter()
            .filter(|role| state.roles.plays(*role))
            .map(medic_server::ServiceRole::as_str)
            .collect();
        eprintln!(
            "medic: listening on http://{address} (store: {}, {token_count} token(s), roles: {})",
            state.service.store.backend_name(),
            roles.join(",")
        );
        let limits = medic_server::ServerLimits {
            header_read_timeout: args.header_read_timeout,
            request_timeout: args.request_timeout,
            max_connections: args.max_connections as usize,
            shutdown_grace: args.shutdown_grace,
        };
        medic_server::serve(listener, state, limits, medic_server::shutdown_signal()).await?;
        eprintln!("medic: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_period;

    #[test]
    fn periods_are_a_whole_number_and_a_unit() {
        assert_eq!(parse_period("90s"), Ok(std::time::Duration::from_secs(90)));
        assert_eq!(
            parse_period("1d"),
            Ok(std::time::Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_period(" 6h "),
            Ok(std::time::Duration::from_secs(21_600))
        );
        for bad in ["", "10", "h", "0m", "1.5h", "3w", "-1h"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }
}
