//! Generic webhooks: [`WebhookNotifier`] POSTs one JSON document per alert
//! to a tenant's URL, signed so the receiver can trust it.
//!
//! Body: `{"id", "type", "severity", "title", "body", "data", "created_at"
//! (RFC 3339), "tenant_id"}`. Headers:
//!
//! - `X-AdScale-Event`: the alert kind (`anomaly.detected`, …);
//! - `X-AdScale-Delivery`: the alert id, the same on every retry: receivers
//!   use it to drop repeats;
//! - `X-AdScale-Timestamp`: when this attempt was signed, in Unix seconds;
//! - `X-AdScale-Signature`: `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`
//!   keyed with the channel's secret.
//!
//! Signing the timestamp with the body lets a receiver refuse replays: it
//! recomputes the signature with [`verify`] over the exact bytes it received
//! and rejects timestamps older than a few minutes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use domain::notify::{Alert, DeliveryError};
use domain::platform::Clock;
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;

use super::{DEFAULT_TIMEOUT, check_status, parse_url, transport_error};
use crate::clock::SystemClock;

pub const EVENT_HEADER: &str = "X-AdScale-Event";
pub const DELIVERY_HEADER: &str = "X-AdScale-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-AdScale-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-AdScale-Signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-AdScale-Signature` value for `body` sent at `timestamp`:
/// `sha256=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with
/// `secret`.
#[must_use]
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Whether `signature` (an `X-AdScale-Signature` value) was made with
/// `secret` over exactly `timestamp` and `body`; compared in constant time.
/// Checking that `timestamp` is recent is the receiver's part.
#[must_use]
pub fn verify(secret: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
    let Some(Ok(given)) = signature.strip_prefix("sha256=").map(hex::decode) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&given).is_ok()
}

/// Posts signed alerts to tenants' webhook URLs over a shared HTTP client.
#[derive(Clone)]
pub struct WebhookNotifier {
    http: reqwest::Client,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// With [`DEFAULT_TIMEOUT`] per request and the system clock.
    #[must_use]
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            timeout: DEFAULT_TIMEOUT,
            clock: Arc::new(SystemClock),
        }
    }

    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The clock that stamps `X-AdScale-Timestamp` (fixed in tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Posts `alert` to `url`, signed with `secret`.
    ///
    /// # Errors
    /// Retryable on 408/429/5xx, timeouts and connection failures; permanent
    /// on other answers (3xx included: redirects are not followed by
    /// [`super::http_client`]) and on a URL that is not http(s).
    pub async fn send(&self, url: &str, secret: &str, alert: &Alert) -> Result<(), DeliveryError> {
        let url = parse_url(url, "webhook")?;
        let body = body(alert)?;
        let timestamp = self.clock.now().unix_timestamp();
        let response = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, alert.kind.as_str())
            .header(DELIVERY_HEADER, alert.id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(secret, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the webhook receiver"))?;
        check_status(response.status(), "the webhook receiver", None)
    }
}

/// The JSON bytes sent (and signed) for `alert`.
///
/// # Errors
/// Permanent when `created_at` cannot be written as RFC 3339 (a year
/// outside 0–9999).
pub fn body(alert: &Alert) -> Result<Vec<u8>, DeliveryError> {
    let created_at = alert.created_at.format(&Rfc3339).map_err(|_| {
        DeliveryError::Permanent("the alert time cannot be written as RFC 3339".to_owned())
    })?;
    let doc = json!({
        "id": alert.id.to_string(),
        "type": alert.kind.as_str(),
        "severity": alert.severity.as_str(),
        "title": alert.title,
        "body": alert.body,
        "data": alert.data,
        "created_at": created_at,
        "tenant_id": alert.tenant_id.to_string(),
    });
    serde_json::to_vec(&doc)
        .map_err(|_| DeliveryError::Permanent("the alert cannot be written as JSON".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_timestamp_and_body() {
        let s = sign("whsec_FAKE", 1_700_000_000, b"{}");
        assert!(s.starts_with("sha256="));
        assert_eq!(s.len(), "sha256=".len() + 64);
        assert!(verify("whsec_FAKE", 1_700_000_000, b"{}", &s));
        assert!(!verify("whsec_FAKE", 1_700_000_001, b"{}", &s));
        assert!(!verify("whsec_FAKE", 1_700_000_000, b"{ }", &s));
        assert!(!verify("other", 1_700_000_000, b"{}", &s));
        assert!(!verify("whsec_FAKE", 1_700_000_000, b"{}", "sha256=zz"));
        assert!(!verify("whsec_FAKE", 1_700_000_000, b"{}", &s[7..]));
    }
}
