//! Notification channels: where a tenant's alerts go, which of them, and how
//! a channel's target is validated, stored (sealed) and shown (redacted).

use async_trait::async_trait;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Alert, AlertKind, ChannelTarget, Severity, redact_url};
use crate::error::{RepoError, ValidationError};
use crate::identity::Email;
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};

crate::id!(
    /// A notification channel.
    ChannelId
);

/// The longest channel name kept, in characters.
pub const MAX_CHANNEL_NAME_CHARS: usize = 100;
/// The most recipients one e-mail channel may have.
pub const MAX_RECIPIENTS: usize = 20;
/// The shortest webhook signing secret accepted.
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 16;
/// The longest URL accepted.
const MAX_URL_CHARS: usize = 2048;
/// The longest webhook signing secret accepted.
const MAX_SECRET_CHARS: usize = 256;

/// The kind of a channel (its target's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Slack,
    Email,
    Webhook,
}

impl ChannelKind {
    pub const ALL: &'static [ChannelKind] = &[Self::Slack, Self::Email, Self::Webhook];

    /// `slack`, `email` or `webhook`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    /// # Errors
    /// Not one of the wire names.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ValidationError::new("kind", "must be one of slack, email, webhook"))
    }
}

/// Which alerts a channel receives: the listed kinds (all when empty) at or
/// above a severity (any when `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelFilter {
    pub events: Vec<AlertKind>,
    pub min_severity: Option<Severity>,
}

impl ChannelFilter {
    /// Whether an alert of `kind` and `severity` goes to the channel. Test
    /// alerts are addressed to one channel and never fanned out.
    #[must_use]
    pub fn matches(&self, kind: AlertKind, severity: Severity) -> bool {
        kind != AlertKind::Test
            && (self.events.is_empty() || self.events.contains(&kind))
            && self.min_severity.is_none_or(|min| severity >= min)
    }
}

/// A tenant's channel as stored and shown: never its target, only a
/// redacted description of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationChannel {
    pub id: ChannelId,
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: ChannelKind,
    /// The target without credentials: `https://hooks.slack.com/<redacted>`,
    /// or the recipients of an e-mail channel.
    pub display: String,
    pub filter: ChannelFilter,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl NotificationChannel {
    /// Whether `alert` fans out to this channel.
    #[must_use]
    pub fn wants(&self, alert: &Alert) -> bool {
        self.enabled && self.filter.matches(alert.kind, alert.severity)
    }
}

/// Validates a channel name: trimmed, 1 to [`MAX_CHANNEL_NAME_CHARS`] characters.
///
/// # Errors
/// Blank or too long.
pub fn channel_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ValidationError::new("name", "is required"));
    }
    if name.chars().count() > MAX_CHANNEL_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            &format!("must be at most {MAX_CHANNEL_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Why a URL is refused, for `field`. Accepts `https://host[:port]/…` and,
/// for loopback hosts only (`localhost`, `127.x.x.x`, `[::1]`: local
/// receivers and tests), `http://`. User info (`user:pw@`) is refused: a
/// credential belongs in the path or the signing secret.
fn check_url(field: &str, url: &str) -> Result<(), ValidationError> {
    let bad = |why: &str| Err(ValidationError::new(field, why));
    if url.is_empty() {
        return bad("is required");
    }
    if url.chars().count() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
        return bad("must be a URL without spaces, at most 2048 characters");
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return bad("must be an https:// URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return bad("must not contain user info");
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return bad("must name a host");
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|r| {
            r.split('.').count() == 3 && r.split('.').all(|p| p.parse::<u8>().is_ok())
        });
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => bad("must use https (http is allowed only for localhost)"),
        _ => bad("must be an https:// URL"),
    }
}

impl ChannelTarget {
    /// The channel kind of this target.
    #[must_use]
    pub const fn kind(&self) -> ChannelKind {
        match self {
            Self::Slack { .. } => ChannelKind::Slack,
            Self::Email { .. } => ChannelKind::Email,
            Self::Webhook { .. } => ChannelKind::Webhook,
        }
    }

    /// A target from the API's `config` object for `kind`, validated and
    /// normalised (trimmed; e-mail addresses lower-cased). Field names in
    /// errors are `config.webhook_url`, `config.to`, `config.url`,
    /// `config.secret`.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn from_config(kind: ChannelKind, config: &Value) -> Result<Self, ValidationError> {
        let text = |k: &str| config.get(k).and_then(Value::as_str).map(str::trim);
        let target = match kind {
            ChannelKind::Slack => Self::Slack {
                webhook_url: text("webhook_url").unwrap_or_default().to_owned(),
            },
            ChannelKind::Webhook => Self::Webhook {
                url: text("url").unwrap_or_default().to_owned(),
                secret: text("secret").unwrap_or_default().to_owned(),
            },
            ChannelKind::Email => {
                let Some(list) = config.get("to").and_then(Value::as_array) else {
                    return Err(ValidationError::new(
                        "config.to",
                        "must be a list of e-mail addresses",
                    ));
                };
                let mut to = Vec::with_capacity(list.len());
                for (i, v) in list.iter().enumerate() {
                    let parsed = v.as_str().map(Email::parse);
                    match parsed {
                        Some(Ok(e)) => to.push(e.as_str().to_owned()),
                        _ => {
                            return Err(ValidationError::new(
                                &format!("config.to[{i}]"),
                                "must be a valid e-mail",
                            ));
                        }
                    }
                }
                Self::Email { to }
            }
        };
        target.validate()?;
        Ok(target)
    }

    /// Checks the target: https URLs (http for loopback hosts), a signing
    /// secret of [`MIN_WEBHOOK_SECRET_CHARS`]–256 characters, 1 to
    /// [`MAX_RECIPIENTS`] valid e-mail addresses.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut errors = ValidationError::default();
        match self {
            Self::Slack { webhook_url } => {
                if let Err(e) = check_url("config.webhook_url", webhook_url) {
                    errors.merge(e);
                }
            }
            Self::Webhook { url, secret } => {
                if let Err(e) = check_url("config.url", url) {
                    errors.merge(e);
                }
                let n = secret.chars().count();
                if !(MIN_WEBHOOK_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) {
                    errors.add(
                        "config.secret",
                        &format!(
                            "must be {MIN_WEBHOOK_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"
                        ),
                    );
                }
            }
            Self::Email { to } => {
                if to.is_empty() || to.len() > MAX_RECIPIENTS {
                    errors.add(
                        "config.to",
                        &format!("must list 1 to {MAX_RECIPIENTS} e-mail addresses"),
                    );
                }
                for (i, a) in to.iter().enumerate() {
                    if Email::parse(a).is_err() {
                        errors.add(&format!("config.to[{i}]"), "must be a valid e-mail");
                    }
                }
            }
        }
        errors.into_result()
    }

    /// What the API shows instead of the target: scheme and host of a URL
    /// (`https://hooks.slack.com/<redacted>`), or the recipients.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Self::Slack { webhook_url } => redact_url(webhook_url),
            Self::Webhook { url, .. } => redact_url(url),
            Self::Email { to } => to.join(", "),
        }
    }

    /// The target as the JSON text that is sealed at rest.
    #[must_use]
    pub fn to_sealed_json(&self) -> String {
        let v = match self {
            Self::Slack { webhook_url } => json!({"kind": "slack", "webhook_url": webhook_url}),
            Self::Email { to } => json!({"kind": "email", "to": to}),
            Self::Webhook { url, secret } => {
                json!({"kind": "webhook", "url": url, "secret": secret})
            }
        };
        v.to_string()
    }

    /// The target from [`ChannelTarget::to_sealed_json`]'s text; `None` when
    /// it is not such a text.
    #[must_use]
    pub fn from_sealed_json(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match v.get("kind").and_then(Value::as_str)? {
            "slack" => Some(Self::Slack {
                webhook_url: s("webhook_url")?,
            }),
            "webhook" => Some(Self::Webhook {
                url: s("url")?,
                secret: s("secret")?,
            }),
            "email" => Some(Self::Email {
                to: v
                    .get("to")?
                    .as_array()?
                    .iter()
                    .map(|a| a.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()?,
            }),
            _ => None,
        }
    }
}

/// A tenant's notification channels. Targets are stored sealed (the caller
/// seals them); deleting a channel hides it but keeps its past deliveries.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait NotificationChannelRepository: Send + Sync {
    /// Stores a new channel with its sealed target.
    ///
    /// # Errors
    /// `MissingReference("tenant_id")` for an unknown tenant.
    async fn create(&self, c: &NotificationChannel, sealed_target: &[u8]) -> Result<(), RepoError>;

    /// The channel, or `None` when missing, deleted or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn get(
        &self,
        t: TenantId,
        id: ChannelId,
    ) -> Result<Option<NotificationChannel>, RepoError>;

    /// The tenant's channels that are not deleted, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        page: PageRequest,
    ) -> Result<Page<NotificationChannel>, RepoError>;

    /// Writes `c`'s name, kind, display, filter, enabled and `updated_at`,
    /// and the sealed target when given. `false` when the channel is missing,
    /// deleted or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn update(
        &self,
        c: &NotificationChannel,
        sealed_target: Option<Vec<u8>>,
    ) -> Result<bool, RepoError>;

    /// Marks the channel deleted at `at`; pending deliveries to it then fail
    /// when a worker reaches them. `false` when missing, already deleted or
    /// another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn delete(
        &self,
        t: TenantId,
        id: ChannelId,
        at: OffsetDateTime,
    ) -> Result<bool, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_fields(e: &ValidationError) -> Vec<String> {
        e.fields.keys().cloned().collect()
    }

    #[test]
    fn filter_matches_listed_kinds_at_or_above_the_severity() {
        let all = ChannelFilter::default();
        assert!(all.matches(AlertKind::SyncFailed, Severity::Info));
        assert!(
            !all.matches(AlertKind::Test, Severity::Info),
            "tests are addressed, never fanned out"
        );
        let f = ChannelFilter {
            events: vec![AlertKind::SuggestionCreated, AlertKind::TokenExpired],
            min_severity: Some(Severity::Warning),
        };
        assert!(f.matches(AlertKind::SuggestionCreated, Severity::Warning));
        assert!(f.matches(AlertKind::TokenExpired, Severity::Critical));
        assert!(!f.matches(AlertKind::SuggestionCreated, Severity::Info));
        assert!(!f.matches(AlertKind::SyncFailed, Severity::Critical));
    }

    #[test]
    fn urls_need_https_except_on_loopback_hosts() {
        for ok in [
            "https://hooks.slack.com/services/T/B/X",
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]:9/x",
        ] {
            assert!(check_url("u", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/hook",
            "ftp://example.com/x",
            "hooks.slack.com/x",
            "https://user:pw@example.com/x",
            "https://",
            "https://exa mple.com",
            "http://127.0.0.1.example.com/x",
            "",
        ] {
            assert!(check_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_is_validated_per_field() {
        let e = ChannelTarget::from_config(
            ChannelKind::Webhook,
            &json!({"url": "http://example.com/x", "secret": "short"}),
        )
        .unwrap_err();
        assert_eq!(err_fields(&e), ["config.secret", "config.url"]);

        let e = ChannelTarget::from_config(ChannelKind::Email, &json!({"to": ["a@b.co", "nope"]}))
            .unwrap_err();
        assert_eq!(err_fields(&e), ["config.to[1]"]);
        let e = ChannelTarget::from_config(ChannelKind::Email, &json!({"to": []})).unwrap_err();
        assert_eq!(err_fields(&e), ["config.to"]);

        let t =
            ChannelTarget::from_config(ChannelKind::Email, &json!({"to": [" Ana@Example.COM "]}))
                .unwrap();
        assert_eq!(
            t,
            ChannelTarget::Email {
                to: vec!["ana@example.com".into()]
            }
        );
    }

    #[test]
    fn display_never_shows_url_paths_or_secrets() {
        let t = ChannelTarget::Webhook {
            url: "https://example.com/hooks/FAKEtoken".into(),
            secret: "FAKE-secret-0123456789".into(),
        };
        assert_eq!(t.display(), "https://example.com/<redacted>");
        let s = ChannelTarget::Slack {
            webhook_url: "https://hooks.slack.com/services/T/B/FAKE".into(),
        };
        assert_eq!(s.display(), "https://hooks.slack.com/<redacted>");
    }

    #[test]
    fn sealed_json_round_trips_every_kind() {
        for t in [
            ChannelTarget::Slack {
                webhook_url: "https://h/x".into(),
            },
            ChannelTarget::Email {
                to: vec!["a@b.co".into(), "c@d.co".into()],
            },
            ChannelTarget::Webhook {
                url: "https://h/y".into(),
                secret: "s".repeat(16),
            },
        ] {
            assert_eq!(
                ChannelTarget::from_sealed_json(&t.to_sealed_json()),
                Some(t)
            );
        }
        assert_eq!(ChannelTarget::from_sealed_json("{\"kind\":\"sms\"}"), None);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(channel_name("  Ops  ").unwrap(), "Ops");
        assert!(channel_name(" ").is_err());
        assert!(channel_name(&"x".repeat(101)).is_err());
    }
}
