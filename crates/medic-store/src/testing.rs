//! Fresh databases for tests (feature `testing`): a SQLite file in a temporary folder, or a new database on the
//! real PostgreSQL server (`MEDIC_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/postgres`). Both
//! are removed when the [`TestDatabase`] is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which backend a test database is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server.
    Postgres,
}

/// A database that exists for one test. Open it with [`crate::Store::open`] and [`TestDatabase::url`].
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Folder(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new, empty database. Panics if it cannot be made: a test cannot run without it.
    pub async fn create(backend: TestBackend) -> TestDatabase {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        match backend {
            TestBackend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("medic-test-{unique}"));
                std::fs::create_dir_all(&dir).expect("temporary folder");
                TestDatabase {
                    url: format!("sqlite://{}", dir.join("medic.sqlite").display()),
                    cleanup: Cleanup::Folder(dir),
                }
            }
            TestBackend::Postgres => {
                let admin_url = std::env::var("MEDIC_TEST_POSTGRES")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
                let name = format!("medic_test_{unique}");
                let admin = sqlx::PgPool::connect(&admin_url).await.expect(
                    "PostgreSQL must be running for the tests (scripts/ensure-postgres.sh)",
                );
                for statement in [
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(statement))
                        .execute(&admin)
                        .await
                        .expect("create the test database");
                }
                admin.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Database { admin_url, name },
                }
            }
        }
    }

    /// The database's URL, as `medic serve --db` and [`crate::Store::open`] take it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a leftover is harmless and named after its process.
        match &self.cleanup {
            Cleanup::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                let _ = std::process::Command::new("psql")
                    .arg(admin_url)
                    .arg("-qc")
                    .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .output();
            }
        }
    }
}

/// Brings the database at `url` to its first `count` migrations only, as an older medic left it, so that a test can
/// write what that medic wrote ([`execute`]) and check what the later migrations make of it
/// ([`crate::Store::open`] runs them).
pub async fn migrate_first(url: &str, count: usize) {
    fn first(mut migrator: sqlx::migrate::Migrator, count: usize) -> sqlx::migrate::Migrator {
        migrator.migrations = migrator.migrations.iter().take(count).cloned().collect();
        migrator
    }
    match connect(url).await {
        Pool::Sqlite(pool) => {
            first(sqlx::migrate!("migrations/sqlite"), count)
                .run(&pool)
                .await
                .expect("the first migrations run");
            pool.close().await;
        }
        Pool::Postgres(pool) => {
            first(sqlx::migrate!("migrations/postgres"), count)
                .run(&pool)
                .await
                .expect("the first migrations run");
            pool.close().await;
        }
    }
}

/// Runs `sql` (statements without parameters) on the database at `url`, outside the store: rows as an older medic
/// wrote them, or a large history written at once for a benchmark.
pub async fn execute(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match connect(url).await {
        Pool::Sqlite(pool) => {
            sqlx::raw_sql(sql)
                .execute(&pool)
                .await
                .expect("the SQL runs");
            pool.close().await;
        }
        Pool::Postgres(pool) => {
            sqlx::raw_sql(sql)
                .execute(&pool)
                .await
                .expect("the SQL runs");
            pool.close().await;
        }
    }
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

async fn connect(url: &str) -> Pool {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Pool::Sqlite(
            sqlx::SqlitePool::connect_with(options)
                .await
                .expect("the SQLite file opens"),
        )
    } else {
        Pool::Postgres(
            sqlx::PgPool::connect(url)
                .await
                .expect("PostgreSQL connects"),
        )
    }
}

/// A parameter of a query whose plan a test asks for.
#[derive(Clone, Copy)]
enum Param {
    Text(&'static str),
    NullText,
    /// A time: an integer of microseconds on SQLite, a `timestamptz` on PostgreSQL.
    NullTime,
    Int(i64),
}

/// What the database plans for each query of one job's rows, by name: SQLite's `EXPLAIN QUERY PLAN` details, or
/// PostgreSQL's `EXPLAIN` with sequential scans disabled (so that a plan names an index whenever one can serve,
/// whatever the table's size). A plan that reads the whole table says `SCAN patches` or `Seq Scan on patches`.
pub async fn per_job_query_plans(store: &crate::Store) -> Vec<(&'static str, String)> {
    use Param::{Int, NullText, NullTime, Text};
    let queries: [(&'static str, crate::Sql, &[Param]); 6] = [
        ("a job's patches", crate::PATCHES_OF_JOB, &[Text("rollup")]),
        (
            "a job's patches in a status",
            crate::PATCHES_OF_JOB_IN_STATUS,
            &[Text("rollup"), Text("active")],
        ),
        (
            "the active patches for a job",
            crate::ACTIVE_PATCHES_FOR,
            &[
                Text("rollup"),
                Text("nightly"),
                Text("data-eng"),
                Text("emr"),
            ],
        ),
        (
            "the versions of a job's patches",
            crate::write::JOB_PATCH_VERSIONS,
            &[Text("rollup")],
        ),
        (
            "the active patches a job's new patch may supersede",
            crate::write::ACTIVE_PATCHES_OF_SCOPE_JOB,
            &[Text("active"), Text("rollup")],
        ),
        (
            "a job's attempts",
            crate::attempts::ATTEMPTS_OF_JOB,
            &[Text("rollup"), NullText, NullTime, NullTime, Int(10)],
        ),
    ];
    let mut plans = Vec::new();
    for (name, (sqlite, postgres), params) in queries {
        let plan = match &store.backend {
            crate::Backend::Sqlite(pool) => {
                let text = format!("EXPLAIN QUERY PLAN {sqlite}");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
                for param in params {
                    query = match *param {
                        Text(text) => query.bind(text),
                        NullText => query.bind(None::<String>),
                        NullTime => query.bind(None::<i64>),
                        Int(value) => query.bind(value),
                    };
                }
                let rows = query.fetch_all(pool).await.expect("SQLite explains");
                rows.iter()
                    .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            crate::Backend::Postgres(pool) => {
                let mut connection = pool.acquire().await.expect("a connection");
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut *connection)
                    .await
                    .expect("set");
                let text = format!("EXPLAIN {postgres}");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
                for param in params {
                    query = match *param {
                        Text(text) => query.bind(text),
                        NullText => query.bind(None::<String>),
                        NullTime => query.bind(None::<time::OffsetDateTime>),
                        Int(value) => query.bind(value),
                    };
                }
                let rows = query
                    .fetch_all(&mut *connection)
                    .await
                    .expect("PostgreSQL explains");
                sqlx::query("RESET enable_seqscan")
                    .execute(&mut *connection)
                    .await
                    .expect("reset");
                rows.iter()
                    .map(|row| sqlx::Row::get::<String, _>(row, 0))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        plans.push((name, plan));
    }
    plans
}
