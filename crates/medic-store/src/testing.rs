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
