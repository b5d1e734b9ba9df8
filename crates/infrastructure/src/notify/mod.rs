//! Alert delivery adapters behind the `Notifier` port: Slack incoming
//! webhooks ([`slack`]), signed generic webhooks ([`webhook`]) and SMTP
//! e-mail ([`email`]), with [`ChannelNotifier`] choosing among them by
//! [`ChannelTarget`].
//!
//! Each call is one attempt with a timeout; retries, backoff and the
//! once-per-channel bookkeeping belong to the caller (the outbox). Every
//! failure is classified once here: throttling (HTTP 429), receiver
//! failures (5xx, SMTP 4xx), timeouts and unreachable hosts are
//! [`DeliveryError::Retryable`]; refusals (other 4xx, SMTP 5xx), invalid
//! addresses and unconfigured channels are [`DeliveryError::Permanent`].
//! No error message or log line carries a webhook URL, a signing secret or
//! SMTP credentials: `reqwest` errors (which print the URL) are reduced to
//! what went wrong.

pub mod email;
pub mod slack;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod webhook;

use std::time::Duration;

use async_trait::async_trait;
use domain::notify::{Alert, Attachment, ChannelTarget, DeliveryError, Notifier};
use reqwest::{StatusCode, Url};

pub use email::{EmailConfigError, EmailNotifier, SmtpSettings, SmtpTls};
pub use slack::SlackNotifier;
pub use webhook::{WebhookNotifier, sign, verify};

/// Timeout of one delivery attempt (connect, send and read the answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client the adapters are meant to share: no redirects (a
/// redirected POST would turn into a GET and a webhook "succeed" without
/// receiving anything) and the default timeout.
///
/// # Errors
/// The TLS backend cannot be initialised.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DEFAULT_TIMEOUT)
        .connect_timeout(DEFAULT_TIMEOUT)
        .build()
}

/// Delivers to whichever channel a target names. E-mail is optional: without
/// SMTP configured, e-mail targets fail permanently.
#[derive(Debug, Clone)]
pub struct ChannelNotifier {
    slack: SlackNotifier,
    webhook: WebhookNotifier,
    email: Option<EmailNotifier>,
}

impl ChannelNotifier {
    /// Slack and webhooks over `http` (see [`http_client`]) with
    /// [`DEFAULT_TIMEOUT`]; e-mail through `email` when configured.
    #[must_use]
    pub fn new(http: reqwest::Client, email: Option<EmailNotifier>) -> Self {
        Self {
            slack: SlackNotifier::new(http.clone()),
            webhook: WebhookNotifier::new(http),
            email,
        }
    }

    /// From adapters configured separately (timeouts, clock).
    #[must_use]
    pub const fn from_parts(
        slack: SlackNotifier,
        webhook: WebhookNotifier,
        email: Option<EmailNotifier>,
    ) -> Self {
        Self {
            slack,
            webhook,
            email,
        }
    }
}

#[async_trait]
impl Notifier for ChannelNotifier {
    async fn deliver(&self, target: &ChannelTarget, alert: &Alert) -> Result<(), DeliveryError> {
        self.deliver_with(target, alert, &[]).await
    }

    /// E-mail attaches `attachments`; Slack and webhooks carry the alert
    /// only (its body names where to download the file).
    #[tracing::instrument(skip_all, fields(
        channel = target.kind_str(),
        alert_id = %alert.id,
        tenant_id = %alert.tenant_id,
        kind = alert.kind.as_str(),
        attachments = attachments.len(),
    ))]
    async fn deliver_with(
        &self,
        target: &ChannelTarget,
        alert: &Alert,
        attachments: &[Attachment],
    ) -> Result<(), DeliveryError> {
        let result = match target {
            ChannelTarget::Slack { webhook_url } => self.slack.send(webhook_url, alert).await,
            ChannelTarget::Webhook { url, secret } => self.webhook.send(url, secret, alert).await,
            ChannelTarget::Email { to } => match &self.email {
                Some(email) => email.send_with(to, alert, attachments).await,
                None => Err(DeliveryError::Permanent(
                    "e-mail is not configured".to_owned(),
                )),
            },
        };
        match &result {
            Ok(()) => tracing::debug!("alert delivered"),
            Err(e) => tracing::warn!(
                error = %e,
                retryable = e.is_retryable(),
                "alert not delivered"
            ),
        }
        result
    }
}

// ------------------------------------------------------------------ shared HTTP helpers

/// Parses a receiver URL; only absolute http(s) URLs with a host are accepted.
/// The message names `what`, never the URL.
fn parse_url(url: &str, what: &str) -> Result<Url, DeliveryError> {
    match Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        _ => Err(DeliveryError::Permanent(format!(
            "the {what} URL is not a valid http(s) URL"
        ))),
    }
}

/// A transport failure, described without the URL that `reqwest` would print.
fn transport_error(e: &reqwest::Error, who: &str) -> DeliveryError {
    if e.is_timeout() {
        DeliveryError::Retryable(format!("{who} did not answer in time"))
    } else if e.is_connect() {
        DeliveryError::Retryable(format!("could not connect to {who}"))
    } else if e.is_redirect() {
        DeliveryError::Permanent(format!("{who} redirected the request"))
    } else if e.is_builder() {
        DeliveryError::Permanent(format!("the request to {who} could not be built"))
    } else {
        DeliveryError::Retryable(format!("the request to {who} failed"))
    }
}

/// The verdict on an HTTP answer: 2xx delivered; 408, 429 and 5xx worth
/// retrying; anything else (3xx, other 4xx) refused for good. `reason` is
/// the receiver's short error code, when it gave one.
fn check_status(status: StatusCode, who: &str, reason: Option<&str>) -> Result<(), DeliveryError> {
    if status.is_success() {
        return Ok(());
    }
    let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    let message = format!("{who} answered HTTP {}{reason}", status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        Err(DeliveryError::Retryable(message))
    } else {
        Err(DeliveryError::Permanent(message))
    }
}

/// A short error code from a response body (`no_service`, `invalid_token`),
/// or nothing: arbitrary bodies are not copied into messages.
fn short_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    ok.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable_other_refusals_are_not() {
        let verdict = |code: u16| {
            check_status(StatusCode::from_u16(code).unwrap(), "x", None)
                .map_err(|e| e.is_retryable())
        };
        assert_eq!(verdict(200), Ok(()));
        assert_eq!(verdict(204), Ok(()));
        for code in [408, 429, 500, 502, 503] {
            assert_eq!(verdict(code), Err(true), "{code}");
        }
        for code in [301, 400, 401, 403, 404, 410, 422] {
            assert_eq!(verdict(code), Err(false), "{code}");
        }
    }

    #[test]
    fn only_short_codes_from_bodies_reach_messages() {
        assert_eq!(short_code(b"no_service\n").as_deref(), Some("no_service"));
        assert_eq!(short_code(b"<html>oops</html>"), None);
        assert_eq!(short_code(b""), None);
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for url in [
            "hooks.slack.com/FAKE",
            "ftp://x/FAKE",
            "mailto:FAKE@x.test",
            "https://",
            "",
        ] {
            let e = parse_url(url, "Slack webhook").unwrap_err();
            assert!(!e.is_retryable());
            assert!(!e.to_string().contains("FAKE"), "{e}");
        }
        assert!(parse_url("https://hooks.slack.com/services/T/B/X", "Slack webhook").is_ok());
    }
}
