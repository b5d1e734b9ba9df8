//! Persistence on PostgreSQL (the reference, for production) or SQLite (the
//! embedded default), through diesel-async. Owns the connection pools, the
//! embedded migrations and every repository port of `domain`, implemented once
//! on [`Db`]; never decides anything (rules live in `application`) and never
//! lets a connection or a diesel error out (callers see `RepoError`).
//!
//! Query bodies are written once with [`on_db!`] where both dialects agree;
//! the macro brings `db::pg` or `db::sqlite` (schema and SQL type aliases)
//! into scope per arm. Upserts, aggregates and migrations differ per backend
//! and are written per arm. Every query on tenant-owned data filters by
//! `tenant_id`, so another tenant's id behaves exactly like a missing one.

/// Runs one body against whichever backend the pool is, with that backend's
/// schema in scope and a pooled connection bound to `$c`. The body evaluates
/// to `Result<T, DbError>` (`?` works on diesel and pool errors); the macro
/// yields `Result<T, RepoError>`.
///
/// The second form takes one body per backend, for where dialects differ.
macro_rules! on_db {
    ($pool:expr, |$c:ident| $body:expr) => {
        on_db!($pool, pg: |$c| $body, sqlite: |$c| $body)
    };
    ($pool:expr, pg: |$pc:ident| $pg:expr, sqlite: |$sc:ident| $sq:expr $(,)?) => {{
        let result: ::std::result::Result<_, $crate::db::DbError> = async {
            match $pool {
                $crate::db::DbPool::Postgres(pool) => {
                    #[allow(unused_imports)]
                    use $crate::db::pg::*;
                    let mut conn = pool.get().await?;
                    let $pc = &mut *conn;
                    $pg
                }
                $crate::db::DbPool::Sqlite(pool) => {
                    #[allow(unused_imports)]
                    use $crate::db::sqlite::*;
                    let mut conn = pool.get().await?;
                    let $sc = &mut *conn;
                    $sq
                }
            }
        }
        .await;
        result.map_err(::domain::RepoError::from)
    }};
}

/// Takes the due rows of a job queue (`$table` with `tenant_id`, `id`,
/// `status`, `due_at` and `attempts`): those `$queued` and due by `$now`,
/// oldest first, at most `$limit`; each is held until `$hold` with its
/// attempt counted, in one transaction. A row another worker changed
/// meanwhile is left out. `$lock` is `.for_update().skip_locked()` on
/// PostgreSQL (rows another worker is taking are skipped) and nothing on
/// SQLite (one worker process). Evaluates to `Result<Vec<$Item>, DbError>`,
/// each item converted with `TryFrom<$Row>` and its `attempts` counted.
macro_rules! take_due {
    ($c:ident, $table:ident, $columns:expr, $Row:ty => $Item:ty,
     $queued:expr, $now:expr, $hold:expr, $limit:expr, $($lock:tt)*) => {
        $c.transaction(async |c| {
            let due = $table::table
                .filter($table::status.eq($queued))
                .filter($table::due_at.le($now))
                .order($table::due_at.asc())
                .limit(i64::from($limit))
                .select($columns)
                $($lock)*
                .load::<$Row>(c)
                .await?;
            let mut taken = Vec::with_capacity(due.len());
            for row in due {
                let n = diesel::update(
                    $table::table
                        .filter($table::tenant_id.eq(row.tenant_id))
                        .filter($table::id.eq(row.id))
                        .filter($table::status.eq($queued))
                        .filter($table::attempts.eq(row.attempts)),
                )
                .set((
                    $table::due_at.eq(Some($hold)),
                    $table::attempts.eq(row.attempts + 1),
                ))
                .execute(c)
                .await?;
                if n == 1 {
                    let mut item = <$Item>::try_from(row)?;
                    item.attempts += 1;
                    taken.push(item);
                }
            }
            Ok::<_, $crate::db::DbError>(taken)
        })
        .await
    };
}

/// Records a job attempt that did not finish the job, on `$row` (a filter
/// of a job queue's `$table`, as [`take_due!`]): `failed:` sets `$status`
/// (`FAILED`) with `$why` at `$at`, off the queue; `retry_at:` keeps it
/// queued until `$next` with the `$error` seen. Evaluates to the update's
/// result.
macro_rules! job_setback {
    ($c:ident, $table:ident, $row:expr, failed: $status:expr, $why:expr, $at:expr) => {
        diesel::update($row)
            .set((
                $table::status.eq($status),
                $table::failure.eq(Some($why)),
                $table::finished_at.eq(Some($at)),
                $table::due_at.eq(None::<::time::OffsetDateTime>),
            ))
            .execute($c)
            .await
    };
    ($c:ident, $table:ident, $row:expr, retry_at: $next:expr, $error:expr) => {
        diesel::update($row)
            .set((
                $table::failure.eq(Some($error)),
                $table::due_at.eq(Some($next)),
            ))
            .execute($c)
            .await
    };
}

/// Records a model call's tokens in the usage ledger (`llm_usage`), on the
/// transaction `$c` that stores its result: `$id` is the result's id (an
/// answer, a summary, a document), `$source` `chat` or `insights`. Calls
/// that used no tokens (built-in answers) are not recorded. Evaluates to
/// `Result<(), DbError>`.
macro_rules! record_usage {
    ($c:ident, $tenant:expr, $id:expr, $source:expr, $prompt:expr, $completion:expr, $at:expr) => {{
        let (prompt, completion): (i64, i64) = ($prompt, $completion);
        if prompt > 0 || completion > 0 {
            diesel::insert_into(llm_usage::table)
                .values((
                    llm_usage::tenant_id.eq($tenant),
                    llm_usage::id.eq($id),
                    llm_usage::source.eq($source),
                    llm_usage::prompt_tokens.eq(prompt),
                    llm_usage::completion_tokens.eq(completion),
                    llm_usage::created_at.eq($at),
                ))
                .execute($c)
                .await
                .map(|_| ())
        } else {
            Ok::<(), diesel::result::Error>(())
        }
    }};
}

mod ads;
pub(crate) mod alerts;
mod assistant_usage;
mod audit;
mod channels;
mod conversations;
mod error;
mod identity;
mod ingestion;
mod insight_jobs;
mod insights;
mod insights_docs;
pub mod metrics;
pub mod pg;
mod probe;
mod reports;
mod rows;
pub mod rules;
pub mod sqlite;
mod suggestions;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod types;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use deadpool::Runtime;
use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::future::BoxFuture;

pub use error::DbError;
pub use metrics::register_pool_metrics;

/// `migrations/postgres`, compiled in.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// `migrations/sqlite`, compiled in.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// How long a request waits for a free pooled connection before failing.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a new connection may take (a down database fails fast).
pub const CREATE_TIMEOUT: Duration = Duration::from_secs(3);
/// Connections kept for an embedded SQLite file (one writer at a time anyway).
pub const SQLITE_POOL_SIZE: usize = 8;

/// Set on every new SQLite connection: wait for locks instead of failing,
/// readers never block the writer, and foreign keys are enforced.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Serialises migration runs per PostgreSQL schema (several instances may start at once).
const LOCK_MIGRATIONS: &str =
    "SELECT pg_advisory_lock(hashtext('adscale_migrations:' || current_schema()))";
const UNLOCK_MIGRATIONS: &str =
    "SELECT pg_advisory_unlock(hashtext('adscale_migrations:' || current_schema()))";

/// A pool of connections to one of the two supported backends.
#[derive(Clone)]
pub enum DbPool {
    /// Production: PostgreSQL through tokio-postgres (no libpq).
    Postgres(Pool<AsyncPgConnection>),
    /// Embedded: one SQLite file; queries run on tokio's blocking threads.
    Sqlite(Pool<SyncConnectionWrapper<SqliteConnection>>),
}

/// A snapshot of a pool's connections, for metrics and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections the pool may open.
    pub max_size: usize,
    /// Connections open now (idle or in use).
    pub size: usize,
    /// Idle connections ready to be handed out.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl fmt::Debug for DbPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbPool")
            .field("backend", &self.backend_name())
            .field("status", &self.status())
            .finish()
    }
}

impl DbPool {
    /// A lazily connecting PostgreSQL pool of at most `max_size` connections.
    /// Connections are plain TCP (no TLS), keep diesel-async's prepared
    /// statement cache, and are handed out without a test query; a caller
    /// waits at most [`WAIT_TIMEOUT`] for one, and opening one may take at
    /// most [`CREATE_TIMEOUT`], so a down database yields an error, not a hang.
    ///
    /// # Errors
    /// `DbError::Config` for a URL that is not `postgres://…`, a zero size, or
    /// a pool that cannot be built.
    pub fn postgres(url: &str, max_size: usize) -> Result<DbPool, DbError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(DbError::Config(
                "the database URL must start with postgres://".to_owned(),
            ));
        }
        if max_size == 0 {
            return Err(DbError::Config(
                "the pool size must be at least 1".to_owned(),
            ));
        }
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        Pool::builder(manager)
            .max_size(max_size)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CREATE_TIMEOUT))
            .recycle_timeout(Some(CREATE_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map(DbPool::Postgres)
            .map_err(|e| DbError::Config(e.to_string()))
    }

    /// A pool over the SQLite file at `path` (created with its parent
    /// directory if missing). Every new connection sets WAL journaling,
    /// `busy_timeout = 5000`, `foreign_keys = ON` and `synchronous = NORMAL`.
    ///
    /// # Errors
    /// `DbError::Config` when the directory cannot be created, the path is not
    /// UTF-8, or the pool cannot be built.
    pub fn sqlite(path: &Path) -> Result<DbPool, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let url = path
            .to_str()
            .ok_or_else(|| DbError::Config("the SQLite path must be UTF-8".to_owned()))?;
        let mut config = ManagerConfig::<SyncConnectionWrapper<SqliteConnection>>::default();
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(sqlite_connect);
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        Pool::builder(manager)
            .max_size(SQLITE_POOL_SIZE)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .create_timeout(Some(CREATE_TIMEOUT))
            .recycle_timeout(Some(CREATE_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map(DbPool::Sqlite)
            .map_err(|e| DbError::Config(e.to_string()))
    }

    /// Applies the pending embedded migrations of this backend and returns how
    /// many ran. Runs on a blocking thread with a connection taken out of the
    /// pool, so it works on any tokio runtime flavour. On PostgreSQL an
    /// advisory lock (per schema) keeps concurrent starters from racing.
    ///
    /// # Errors
    /// No connection, or a migration failed (it is rolled back).
    pub async fn run_migrations(&self) -> Result<usize, DbError> {
        match self {
            DbPool::Postgres(pool) => {
                let conn = Object::take(pool.get().await?);
                tokio::task::spawn_blocking(move || {
                    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
                    SimpleConnection::batch_execute(&mut conn, LOCK_MIGRATIONS)?;
                    let applied = conn
                        .run_pending_migrations(PG_MIGRATIONS)
                        .map(|v| v.len())
                        .map_err(|e| DbError::Migration(e.to_string()));
                    SimpleConnection::batch_execute(&mut conn, UNLOCK_MIGRATIONS)?;
                    applied
                })
                .await
                .map_err(|e| DbError::Migration(e.to_string()))?
            }
            DbPool::Sqlite(pool) => {
                let mut conn = pool.get().await?;
                conn.spawn_blocking(|c| {
                    Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)
                        .map(|v| v.len())
                        .map_err(|e| e.to_string()))
                })
                .await?
                .map_err(DbError::Migration)
            }
        }
    }

    /// `"postgres"` or `"sqlite"`, for logs and health output.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self {
            DbPool::Postgres(_) => "postgres",
            DbPool::Sqlite(_) => "sqlite",
        }
    }

    /// Brings planner statistics (and, on PostgreSQL, the visibility map and
    /// hint bits) up to date after a bulk load, so the first queries after it
    /// do not pay for that work: `VACUUM (ANALYZE)` on PostgreSQL, `ANALYZE`
    /// on SQLite.
    ///
    /// # Errors
    /// No connection, or the statement failed.
    pub async fn analyze_after_bulk_load(&self) -> Result<(), DbError> {
        match self {
            DbPool::Postgres(pool) => {
                let mut conn = pool.get().await?;
                conn.batch_execute("VACUUM (ANALYZE)").await?;
            }
            DbPool::Sqlite(pool) => {
                let mut conn = pool.get().await?;
                conn.batch_execute("ANALYZE").await?;
            }
        }
        Ok(())
    }

    /// The pool's current connection counts.
    #[must_use]
    pub fn status(&self) -> PoolStatus {
        let s = match self {
            DbPool::Postgres(p) => p.status(),
            DbPool::Sqlite(p) => p.status(),
        };
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            available: s.available,
            waiting: s.waiting,
        }
    }
}

/// Opens a SQLite connection and applies [`SQLITE_PRAGMAS`].
fn sqlite_connect(
    url: &str,
) -> BoxFuture<'_, diesel::ConnectionResult<SyncConnectionWrapper<SqliteConnection>>> {
    Box::pin(async move {
        let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(url).await?;
        conn.batch_execute(SQLITE_PRAGMAS)
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

/// Every repository port of `domain` (and the database health probe) over one
/// pool. Cheap to clone: clones share the pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: DbPool,
}

impl Db {
    /// The repositories over `pool` (migrated beforehand with [`DbPool::run_migrations`]).
    #[must_use]
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    /// The pool, e.g. for metrics.
    #[must_use]
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }
}
