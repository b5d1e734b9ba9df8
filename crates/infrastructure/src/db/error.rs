//! The one place where driver errors become [`RepoError`]s. Constraint
//! violations are named by the field a client can act on (`email`,
//! `external_id`, `ad_account_id`), never by SQL; everything else keeps a
//! short message for logs.

use diesel::result::{ConnectionError, DatabaseErrorInformation, DatabaseErrorKind};
use domain::RepoError;

/// Errors of the database adapter. Converted to [`RepoError`] at the port.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed. `reference` names the field a foreign-key failure is
    /// about when the driver cannot say (SQLite reports no constraint name).
    #[error("query failed: {source}")]
    Query {
        #[source]
        source: diesel::result::Error,
        reference: Option<&'static str>,
    },
    /// A row names a parent (`ad_account_id`, `campaign_id`) that does not
    /// exist, found by a check the schema does not make itself.
    #[error("missing {0}")]
    MissingParent(&'static str),
    /// No connection could be opened.
    #[error("cannot connect: {0}")]
    Connect(#[from] ConnectionError),
    /// No pooled connection became available in time, or the pool is closed.
    #[error("connection pool: {0}")]
    Pool(String),
    /// The pool could not be configured (bad URL, path or settings).
    #[error("database configuration: {0}")]
    Config(String),
    /// Applying migrations failed.
    #[error("migrations failed: {0}")]
    Migration(String),
    /// A stored value does not decode into the domain (e.g. an unknown role).
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
    /// A domain value could not be encoded for storage (e.g. as JSON).
    #[error("cannot encode for storage: {0}")]
    Encode(String),
}

impl DbError {
    /// Names the field a foreign-key failure of this write is about, for
    /// backends whose errors do not name the constraint.
    #[must_use]
    pub(crate) fn referencing(self, field: &'static str) -> Self {
        match self {
            DbError::Query { source, .. } => DbError::Query {
                source,
                reference: Some(field),
            },
            other => other,
        }
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(source: diesel::result::Error) -> Self {
        DbError::Query {
            source,
            reference: None,
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for DbError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        use deadpool::managed::PoolError as P;
        use diesel_async::pooled_connection::PoolError as B;
        match e {
            P::Backend(B::ConnectionError(c)) => DbError::Connect(c),
            P::Backend(B::QueryError(q)) => DbError::from(q),
            P::Timeout(t) => DbError::Pool(format!("timed out ({t:?})")),
            P::Closed => DbError::Pool("closed".to_owned()),
            P::NoRuntimeSpecified => DbError::Pool("no runtime".to_owned()),
            P::PostCreateHook(h) => DbError::Pool(format!("post-create hook: {h}")),
        }
    }
}

impl From<DbError> for RepoError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query { source, reference } => from_query(&source, reference),
            DbError::Connect(c) => RepoError::Unavailable(c.to_string()),
            DbError::Pool(m) => RepoError::Unavailable(m),
            DbError::MissingParent(field) => RepoError::MissingReference(field.to_owned()),
            e @ (DbError::Config(_)
            | DbError::Migration(_)
            | DbError::Corrupt(_)
            | DbError::Encode(_)) => RepoError::Other(e.to_string()),
        }
    }
}

fn from_query(e: &diesel::result::Error, reference: Option<&'static str>) -> RepoError {
    use diesel::result::Error as E;
    match e {
        E::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepoError::Conflict(unique_field(info.as_ref()).to_owned())
        }
        E::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            RepoError::MissingReference(foreign_field(info.as_ref(), reference))
        }
        E::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => RepoError::Unavailable(info.message().to_owned()),
        E::DatabaseError(_, info) if is_busy(info.message()) => {
            RepoError::Unavailable(info.message().to_owned())
        }
        E::BrokenTransactionManager => RepoError::Unavailable(e.to_string()),
        other => RepoError::Other(other.to_string()),
    }
}

/// SQLite gave up waiting for a lock (after `busy_timeout`).
fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

/// PostgreSQL names the constraint (`users_email_key`); SQLite lists the
/// columns (`UNIQUE constraint failed: users.email`). Both contain the field.
fn unique_field(info: &dyn DatabaseErrorInformation) -> &'static str {
    let what = info.constraint_name().unwrap_or_else(|| info.message());
    if what.contains("email") {
        "email"
    } else if what.contains("external_id") {
        "external_id"
    } else if what.contains("key_hash") {
        "key_hash"
    } else if what.contains("token_hash") {
        "token_hash"
    } else if what.contains("memberships") {
        "membership"
    } else {
        "id"
    }
}

/// PostgreSQL constraints are named `<table>_<field>_fkey`; SQLite names
/// nothing, so the caller's hint (or a generic word) is used.
fn foreign_field(info: &dyn DatabaseErrorInformation, hint: Option<&'static str>) -> String {
    let from_constraint = info.constraint_name().and_then(|c| {
        let table = info.table_name()?;
        c.strip_prefix(table)?
            .strip_prefix('_')?
            .strip_suffix("_fkey")
            .map(str::to_owned)
    });
    from_constraint
        .or_else(|| hint.map(str::to_owned))
        .unwrap_or_else(|| "reference".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Info {
        message: &'static str,
        table: Option<&'static str>,
        constraint: Option<&'static str>,
    }

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.message
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            self.table
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db(kind: DatabaseErrorKind, info: Info) -> DbError {
        DbError::from(diesel::result::Error::DatabaseError(kind, Box::new(info)))
    }

    #[test]
    fn unique_violations_name_the_field_on_both_backends() {
        let pg = db(
            DatabaseErrorKind::UniqueViolation,
            Info {
                message: "duplicate key value violates unique constraint \"users_email_key\"",
                table: Some("users"),
                constraint: Some("users_email_key"),
            },
        );
        let sqlite = db(
            DatabaseErrorKind::UniqueViolation,
            Info {
                message: "UNIQUE constraint failed: memberships.tenant_id, memberships.user_id",
                table: None,
                constraint: None,
            },
        );
        assert_eq!(RepoError::from(pg), RepoError::Conflict("email".into()));
        assert_eq!(
            RepoError::from(sqlite),
            RepoError::Conflict("membership".into())
        );
    }

    #[test]
    fn foreign_key_violations_use_the_constraint_or_the_hint() {
        let pg = db(
            DatabaseErrorKind::ForeignKeyViolation,
            Info {
                message: "insert or update violates foreign key constraint",
                table: Some("campaigns"),
                constraint: Some("campaigns_ad_account_id_fkey"),
            },
        );
        let sqlite = db(
            DatabaseErrorKind::ForeignKeyViolation,
            Info {
                message: "FOREIGN KEY constraint failed",
                table: None,
                constraint: None,
            },
        )
        .referencing("ad_set_id");
        assert_eq!(
            RepoError::from(pg),
            RepoError::MissingReference("ad_account_id".into())
        );
        assert_eq!(
            RepoError::from(sqlite),
            RepoError::MissingReference("ad_set_id".into())
        );
    }

    #[test]
    fn pool_timeouts_are_unavailable() {
        assert!(matches!(
            RepoError::from(DbError::Pool("timed out".into())),
            RepoError::Unavailable(_)
        ));
    }
}
