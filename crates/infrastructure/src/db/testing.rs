//! Isolated, migrated databases for tests (feature `test-support`). Safe to
//! use from parallel tests and from one process per test (nextest): nothing is
//! coordinated through process globals.
//!
//! - PostgreSQL (`TEST_DATABASE_URL`, default
//!   `postgres://postgres:postgres@127.0.0.1:5432/adscale_test`): the database
//!   is created if missing, then each `TestDb` gets its own schema
//!   `t_<uuid>`, selected through the connection's `search_path`, migrated,
//!   and dropped when the `TestDb` is dropped (best effort).
//! - SQLite: a migrated file in a temporary directory that lives as long as
//!   the `TestDb`.
//!
//! Setup failures panic with a message saying what to fix: these are tests.

use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::{Db, DbPool, PG_MIGRATIONS, SQLITE_MIGRATIONS};

/// Where PostgreSQL tests run unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_TEST_DATABASE_URL: &str =
    "postgres://postgres:postgres@127.0.0.1:5432/adscale_test";

/// Connections per test pool: enough for concurrent-use tests, few enough
/// for many tests in parallel.
const TEST_POOL_SIZE: usize = 4;

/// A migrated database of its own for one test.
pub struct TestDb {
    pool: DbPool,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Drop this schema on this server.
    Postgres { admin_url: String, schema: String },
    /// The directory holding the SQLite file (removed on drop).
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
}

impl TestDb {
    /// A fresh, migrated PostgreSQL schema.
    ///
    /// # Panics
    /// When the server is unreachable or the schema cannot be set up.
    pub async fn postgres() -> TestDb {
        let db = Self::postgres_empty().await;
        db.migrate().await;
        db
    }

    /// A fresh PostgreSQL schema migrated up to, not including, the first
    /// migration whose name is not below `version` (`"2024-06-01-000006"`),
    /// to test what that migration does to existing rows; [`TestDb::migrate`]
    /// applies the rest.
    ///
    /// # Panics
    /// When the server is unreachable or the schema cannot be set up.
    pub async fn postgres_before(version: &str) -> TestDb {
        let db = Self::postgres_empty().await;
        db.migrate_before(version).await;
        db
    }

    /// A fresh, migrated SQLite file in a temporary directory.
    ///
    /// # Panics
    /// When the temporary directory or the database cannot be set up.
    pub async fn sqlite() -> TestDb {
        let db = Self::sqlite_empty();
        db.migrate().await;
        db
    }

    /// [`TestDb::postgres_before`] on SQLite.
    ///
    /// # Panics
    /// When the temporary directory or the database cannot be set up.
    pub async fn sqlite_before(version: &str) -> TestDb {
        let db = Self::sqlite_empty();
        db.migrate_before(version).await;
        db
    }

    /// Applies every pending migration; how many ran.
    ///
    /// # Panics
    /// When a migration fails.
    pub async fn migrate(&self) -> usize {
        self.pool
            .run_migrations()
            .await
            .unwrap_or_else(|e| panic!("cannot migrate the test database: {e}"))
    }

    /// Applies the pending migrations named below `version`, in order.
    async fn migrate_before(&self, version: &str) {
        let version = version.to_owned();
        let result = match &self.pool {
            DbPool::Postgres(pool) => {
                let conn = Object::take(
                    pool.get()
                        .await
                        .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}")),
                );
                tokio::task::spawn_blocking(move || {
                    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
                    run_before(&mut conn, PG_MIGRATIONS, &version)
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            }
            DbPool::Sqlite(pool) => {
                let mut conn = pool
                    .get()
                    .await
                    .unwrap_or_else(|e| panic!("cannot open the test SQLite file: {e}"));
                conn.spawn_blocking(move |c| Ok(run_before(c, SQLITE_MIGRATIONS, &version)))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
            }
        };
        result.unwrap_or_else(|e| panic!("cannot migrate the test database: {e}"));
    }

    async fn postgres_empty() -> TestDb {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned());
        ensure_database(&admin_url).await;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(&admin_url).await;
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test schema {schema}: {e}"));
        let pool = DbPool::postgres(&with_search_path(&admin_url, &schema), TEST_POOL_SIZE)
            .unwrap_or_else(|e| panic!("cannot build the test pool: {e}"));
        let cleanup = Cleanup::Postgres { admin_url, schema };
        // From here on, Drop removes the schema even if migrations fail.
        TestDb { pool, cleanup }
    }

    fn sqlite_empty() -> TestDb {
        let dir = tempfile::Builder::new()
            .prefix("adscale-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let pool = DbPool::sqlite(&dir.path().join("adscale.db"))
            .unwrap_or_else(|e| panic!("cannot open the test SQLite file: {e}"));
        TestDb {
            pool,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// The pool (clones share it).
    #[must_use]
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// The repositories over this database.
    #[must_use]
    pub fn db(&self) -> Db {
        Db::new(self.pool.clone())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, schema } = &self.cleanup else {
            return;
        };
        // The test's runtime may be shutting down: use a thread with its own.
        let (admin_url, schema) = (admin_url.clone(), schema.clone());
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url).await {
                    let drop_schema =
                        format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = diesel_async::SimpleAsyncConnection::batch_execute(
                        &mut admin,
                        &drop_schema,
                    )
                    .await;
                }
            });
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(Duration::from_secs(10));
    }
}

/// Runs, in order, the pending migrations of `source` named below `version`.
fn run_before<DB, C>(conn: &mut C, source: EmbeddedMigrations, version: &str) -> Result<(), String>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let pending = conn.pending_migrations(source).map_err(|e| e.to_string())?;
    for m in pending
        .iter()
        .filter(|m| m.name().to_string().as_str() < version)
    {
        conn.run_migration(m.as_ref()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn connect(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database ({e}); is PostgreSQL running? set TEST_DATABASE_URL"))
}

/// Creates the test database if it does not exist yet. Concurrent creators
/// are fine: losing the race is reported as "already exists" and ignored.
async fn ensure_database(url: &str) {
    if AsyncPgConnection::establish(url).await.is_ok() {
        return;
    }
    let (server_url, name) = split_database(url);
    let mut server = connect(&server_url).await;
    let quoted = name.replace('"', "\"\"");
    if let Err(e) = diesel::sql_query(format!("CREATE DATABASE \"{quoted}\""))
        .execute(&mut server)
        .await
    {
        let message = e.to_string();
        let raced = message.contains("already exists")
            || matches!(
                e,
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _
                )
            );
        assert!(raced, "cannot create test database {name}: {message}");
    }
}

/// `postgres://u@h/db?x=1` → (`postgres://u@h/postgres?x=1`, `db`).
fn split_database(url: &str) -> (String, String) {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let (prefix, name) = match base[authority_start..].find('/') {
        Some(slash) => base.split_at(authority_start + slash + 1),
        None => (base, ""),
    };
    let prefix = if prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    };
    let server = match query {
        Some(q) => format!("{prefix}postgres?{q}"),
        None => format!("{prefix}postgres"),
    };
    (server, name.to_owned())
}

/// Adds `options=-c search_path=<schema>` so every pooled connection works in
/// the test's schema.
fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Declares one test per backend for each named `async fn(TestDb)` of the
/// calling module: `pg::<name>` (a fresh schema) and `sqlite::<name>` (a temp file).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod pg {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(::infrastructure::db::testing::TestDb::postgres().await).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(::infrastructure::db::testing::TestDb::sqlite().await).await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_database_from_the_url() {
        assert_eq!(
            split_database("postgres://p:p@127.0.0.1:5432/adscale_test"),
            (
                "postgres://p:p@127.0.0.1:5432/postgres".to_owned(),
                "adscale_test".to_owned()
            )
        );
        assert_eq!(
            split_database("postgres://h/db?sslmode=disable"),
            (
                "postgres://h/postgres?sslmode=disable".to_owned(),
                "db".to_owned()
            )
        );
    }

    #[test]
    fn search_path_goes_into_the_options_parameter() {
        assert_eq!(
            with_search_path("postgres://h/db", "t_1"),
            "postgres://h/db?options=-c%20search_path%3Dt_1"
        );
        assert_eq!(
            with_search_path("postgres://h/db?a=b", "t_1"),
            "postgres://h/db?a=b&options=-c%20search_path%3Dt_1"
        );
    }
}
