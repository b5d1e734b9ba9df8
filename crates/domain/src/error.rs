//! Errors shared by every context: what a repository can say went wrong, and
//! what a value object says about bad input.

use std::collections::BTreeMap;

/// What a persistence adapter reports. Driver errors never cross this line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint refused the write (the field or constraint is named).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist (foreign key), e.g. a campaign's ad account.
    #[error("missing reference: {0}")]
    MissingReference(String),
    /// The database cannot be reached or has no free connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for logs, never for clients.
    #[error("database error: {0}")]
    Other(String),
}

/// Bad input, per field: `{"email": "must be a valid e-mail"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("invalid input: {fields:?}")]
pub struct ValidationError {
    pub fields: BTreeMap<String, String>,
}

impl ValidationError {
    #[must_use]
    pub fn new(field: &str, reason: &str) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), reason.to_owned());
        Self { fields }
    }

    pub fn add(&mut self, field: &str, reason: &str) {
        self.fields.insert(field.to_owned(), reason.to_owned());
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Collects per-field results: `Ok(())` when no field failed.
    ///
    /// # Errors
    /// The accumulated field errors.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Merges another validation error's fields into this one.
    pub fn merge(&mut self, other: Self) {
        self.fields.extend(other.fields);
    }
}
