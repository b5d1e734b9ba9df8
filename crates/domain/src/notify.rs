//! Notify: the alerts AdScale sends to a tenant's channels (Slack, e-mail,
//! signed webhooks) and the port that delivers one alert to one channel.
//!
//! Owns what an alert says and where it may go. It never decides *when* to
//! send, how often to retry or which channels a tenant has: an outbox and
//! its workers do that on top of [`Notifier`], using
//! [`DeliveryError::is_retryable`] to choose between backing off and giving
//! up, and [`Alert::id`] so that each alert reaches each channel once.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ValidationError;
use crate::ids::TenantId;

mod builders;
mod channel;
mod outbox;
mod retry;

pub use channel::{
    ChannelFilter, ChannelId, ChannelKind, MAX_CHANNEL_NAME_CHARS, MAX_RECIPIENTS,
    MIN_WEBHOOK_SECRET_CHARS, NotificationChannel, NotificationChannelRepository, channel_name,
};
pub use outbox::{
    AlertFilter, AlertOutbox, AlertRecord, ChannelState, ClaimedDelivery, Delivery, DeliveryKey,
    DeliveryOutcome, DeliveryStatus,
};
pub use retry::{RetryPolicy, jitter_for};

#[cfg(feature = "mocks")]
pub use channel::MockNotificationChannelRepository;
#[cfg(feature = "mocks")]
pub use outbox::MockAlertOutbox;

// ------------------------------------------------------------------ alert

/// What happened. The string form is the event name receivers see
/// (`X-AdScale-Event`, the webhook's `type`), so it never changes once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    SuggestionCreated,
    Anomaly,
    SyncFailed,
    TokenExpired,
    ActionApplied,
    ActionFailed,
    /// A scheduled report was rendered and can be downloaded.
    ReportReady,
    /// Sent on request to one channel, to check that it is set up.
    Test,
}

/// How urgently a person should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

macro_rules! wire_enum {
    ($t:ty, $what:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            /// The stable wire name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = ValidationError;
            /// # Errors
            /// Not one of the wire names.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s).ok_or_else(|| {
                    ValidationError::new($what, concat!("must be one of ", $($s, " "),+))
                })
            }
        }
    };
}

wire_enum!(AlertKind, "kind",
    SuggestionCreated => "suggestion.created",
    Anomaly => "anomaly.detected",
    SyncFailed => "sync.failed",
    TokenExpired => "token.expired",
    ActionApplied => "action.applied",
    ActionFailed => "action.failed",
    ReportReady => "report.ready",
    Test => "channel.test");
wire_enum!(Severity, "severity", Info => "info", Warning => "warning", Critical => "critical");

/// One alert for one tenant, rendered once and sent to each of its channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The idempotency key: the same on every retry and every channel, so a
    /// receiver (or a mail client, via `Message-ID`) recognises a repeat.
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub kind: AlertKind,
    pub severity: Severity,
    /// One line, for a subject or a header.
    pub title: String,
    /// Plain text, a few lines, for people.
    pub body: String,
    /// Machine-readable details (ids, KPI values) for webhook receivers.
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}

// ------------------------------------------------------------------ channel

/// Where one alert goes. Slack webhook URLs and webhook secrets are
/// credentials: `Debug` shows only the scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub enum ChannelTarget {
    /// A Slack incoming webhook (`https://hooks.slack.com/services/T…/B…/…`);
    /// whoever holds the URL can post to the channel.
    Slack { webhook_url: String },
    /// E-mail recipients (`a@b.example` or `Name <a@b.example>`).
    Email { to: Vec<String> },
    /// An HTTP endpoint of the tenant's; each body is signed with `secret`
    /// (HMAC-SHA256) so the receiver can tell it came from us.
    Webhook { url: String, secret: String },
}

impl ChannelTarget {
    /// `slack`, `email` or `webhook`: the channel kind for logs and storage.
    #[must_use]
    pub const fn kind_str(&self) -> &'static str {
        match self {
            Self::Slack { .. } => "slack",
            Self::Email { .. } => "email",
            Self::Webhook { .. } => "webhook",
        }
    }
}

/// `https://host/<redacted>`: scheme and host only, without user info, port
/// path, query or fragment (any of which may carry a credential).
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let scheme_ok = !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric());
    if scheme_ok && !host.is_empty() {
        format!("{scheme}://{host}/<redacted>")
    } else {
        "<redacted>".to_owned()
    }
}

impl fmt::Debug for ChannelTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slack { webhook_url } => f
                .debug_struct("Slack")
                .field("webhook_url", &redact_url(webhook_url))
                .finish(),
            Self::Email { to } => f.debug_struct("Email").field("to", to).finish(),
            Self::Webhook { url, secret: _ } => f
                .debug_struct("Webhook")
                .field("url", &redact_url(url))
                .field("secret", &"<redacted>")
                .finish(),
        }
    }
}

// ------------------------------------------------------------------ port

/// Why one delivery did not happen. Messages are for people and logs and
/// never contain a webhook URL, a secret or SMTP credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later: throttled (HTTP 429), the receiver failed
    /// (5xx, SMTP 4xx), timed out or could not be reached.
    #[error("delivery failed for now: {0}")]
    Retryable(String),
    /// Trying again cannot help: the receiver refused the alert (other
    /// 4xx, SMTP 5xx), the address is invalid or the channel is not set up.
    #[error("delivery refused: {0}")]
    Permanent(String),
}

impl DeliveryError {
    /// Whether the same delivery may succeed later.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

/// Delivers alerts to channels. One call is one attempt: retries, backoff
/// and the once-per-channel bookkeeping belong to the caller.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends `alert` to `target` once. Adapters pass [`Alert::id`] on as the
    /// receiver's idempotency key, so a repeated attempt after an unclear
    /// failure (a timeout after the receiver accepted) can be recognised.
    ///
    /// # Errors
    /// [`DeliveryError::Retryable`] when a later attempt may succeed,
    /// [`DeliveryError::Permanent`] when it cannot.
    async fn deliver(&self, target: &ChannelTarget, alert: &Alert) -> Result<(), DeliveryError>;

    /// As [`Self::deliver`], with files for channels that can carry them
    /// (e-mail attaches them); the others ignore them, which is the default.
    ///
    /// # Errors
    /// As [`Self::deliver`].
    async fn deliver_with(
        &self,
        target: &ChannelTarget,
        alert: &Alert,
        _attachments: &[Attachment],
    ) -> Result<(), DeliveryError> {
        self.deliver(target, alert).await
    }
}

/// A file sent with an alert (a scheduled report, on e-mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    /// Its media type, e.g. `application/pdf`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The files that go with an alert (none for most kinds).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AlertAttachments: Send + Sync {
    /// # Errors
    /// Storage failures.
    async fn attachments(&self, alert: &Alert) -> Result<Vec<Attachment>, crate::RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_kinds_and_severities_round_trip_their_wire_names() {
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>(), Ok(*k));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(*s));
        }
        assert_eq!(AlertKind::Anomaly.as_str(), "anomaly.detected");
        assert!("anomaly".parse::<AlertKind>().is_err());
        assert!("fatal".parse::<Severity>().is_err());
    }

    #[test]
    fn debug_hides_slack_url_path_and_webhook_secret() {
        let slack = ChannelTarget::Slack {
            webhook_url: "https://hooks.slack.com/services/T000/B000/FAKEsecret".into(),
        };
        let shown = format!("{slack:?}");
        assert_eq!(
            shown,
            r#"Slack { webhook_url: "https://hooks.slack.com/<redacted>" }"#
        );

        let hook = ChannelTarget::Webhook {
            url: "https://user:pw@example.com:8443/hooks/FAKEtoken?sig=FAKE".into(),
            secret: "FAKE-whsec".into(),
        };
        let shown = format!("{hook:?}");
        assert!(!shown.contains("FAKE"), "{shown}");
        assert!(!shown.contains("pw"), "{shown}");
        assert!(shown.contains("https://example.com/<redacted>"), "{shown}");
    }

    #[test]
    fn debug_of_an_unparsable_url_shows_nothing_of_it() {
        let slack = ChannelTarget::Slack {
            webhook_url: "hooks.slack.com/services/FAKE".into(),
        };
        assert!(!format!("{slack:?}").contains("FAKE"));
    }

    #[test]
    fn only_retryable_errors_say_so() {
        assert!(DeliveryError::Retryable("HTTP 503".into()).is_retryable());
        assert!(!DeliveryError::Permanent("HTTP 404".into()).is_retryable());
    }

    #[test]
    fn channel_kinds_are_named() {
        let kinds = [
            ChannelTarget::Slack {
                webhook_url: String::new(),
            },
            ChannelTarget::Email { to: vec![] },
            ChannelTarget::Webhook {
                url: String::new(),
                secret: String::new(),
            },
        ]
        .map(|t| t.kind_str());
        assert_eq!(kinds, ["slack", "email", "webhook"]);
    }
}
