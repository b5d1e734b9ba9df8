//! The application layer's error: what went wrong in terms a caller can act on.
//! The HTTP edge maps each variant to a status and code exactly once.

use domain::error::{RepoError, ValidationError};
use domain::identity::CryptoError;

/// The kinds of thing a request can fail to find (named in `*_NOT_FOUND` codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Organization,
    User,
    Member,
    ApiKey,
    AdAccount,
    Campaign,
    AdSet,
    Ad,
    SyncRun,
    Rule,
    Suggestion,
    NotificationChannel,
    Alert,
    Report,
    ReportSchedule,
    Conversation,
    Message,
    Insight,
    InsightJob,
}

impl Resource {
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Resource::Organization => "ORGANIZATION_NOT_FOUND",
            Resource::User => "USER_NOT_FOUND",
            Resource::Member => "MEMBER_NOT_FOUND",
            Resource::ApiKey => "API_KEY_NOT_FOUND",
            Resource::AdAccount => "AD_ACCOUNT_NOT_FOUND",
            Resource::Campaign => "CAMPAIGN_NOT_FOUND",
            Resource::AdSet => "AD_SET_NOT_FOUND",
            Resource::Ad => "AD_NOT_FOUND",
            Resource::SyncRun => "SYNC_RUN_NOT_FOUND",
            Resource::Rule => "RULE_NOT_FOUND",
            Resource::Suggestion => "SUGGESTION_NOT_FOUND",
            Resource::NotificationChannel => "NOTIFICATION_CHANNEL_NOT_FOUND",
            Resource::Alert => "ALERT_NOT_FOUND",
            Resource::Report => "REPORT_NOT_FOUND",
            Resource::Conversation => "CONVERSATION_NOT_FOUND",
            Resource::Message => "MESSAGE_NOT_FOUND",
            Resource::Insight => "INSIGHT_NOT_FOUND",
            Resource::InsightJob => "INSIGHT_JOB_NOT_FOUND",
            Resource::ReportSchedule => "REPORT_SCHEDULE_NOT_FOUND",
        }
    }
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Resource::Organization => "organization",
            Resource::User => "user",
            Resource::Member => "member",
            Resource::ApiKey => "API key",
            Resource::AdAccount => "ad account",
            Resource::Campaign => "campaign",
            Resource::AdSet => "ad set",
            Resource::Ad => "ad",
            Resource::SyncRun => "sync run",
            Resource::Rule => "rule",
            Resource::Suggestion => "suggestion",
            Resource::NotificationChannel => "notification channel",
            Resource::Alert => "alert",
            Resource::Report => "report",
            Resource::Conversation => "conversation",
            Resource::Message => "message",
            Resource::Insight => "insight",
            Resource::InsightJob => "insight job",
            Resource::ReportSchedule => "report schedule",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Well-formed input that breaks a rule (422), per field.
    #[error("validation failed")]
    Validation(ValidationError),
    /// Missing, or owned by another tenant: the same answer for both (404).
    #[error("{} not found", .0.label())]
    NotFound(Resource),
    /// Bad or missing credentials (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but the role is too low (403).
    #[error("your role does not allow this")]
    Forbidden,
    /// The request conflicts with current state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Well-formed input refused as a whole (422), with structured details
    /// (e.g. a CSV import's bad rows or missing columns).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
    /// A dependency is down (503); the text is for logs.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or unexpected failure (500); the text is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    #[must_use]
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        Self::Validation(e)
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(what) => {
                Self::conflict("CONFLICT", format!("{what} already exists"))
            }
            RepoError::MissingReference(field) => Self::Validation(ValidationError::new(
                &field,
                "does not exist in this organization",
            )),
            RepoError::Unavailable(m) => Self::Unavailable(m),
            RepoError::Other(m) => Self::Internal(m),
        }
    }
}

impl From<CryptoError> for AppError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::InvalidToken => Self::Unauthorized("invalid or expired token"),
            CryptoError::Failure(m) => Self::Internal(m),
        }
    }
}

/// Fails with `Forbidden` unless the actor's role allows `p`.
///
/// # Errors
/// `AppError::Forbidden`.
pub fn require(
    actor: &domain::identity::Actor,
    p: domain::identity::Permission,
) -> Result<(), AppError> {
    if actor.can(p) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
