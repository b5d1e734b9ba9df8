//! Slack incoming webhooks: [`SlackNotifier`] posts one Block Kit message per
//! alert — a header with the title, a section with the body, a context line
//! with kind · severity · alert id — and a plain `text` fallback that Slack
//! shows in notifications.
//!
//! Slack answers `200 ok`; errors come as a status with a short plain-text
//! code (`400 invalid_payload`, `403 action_prohibited`/`invalid_token`,
//! `404 channel_not_found`/`no_service`, `410 channel_is_archived`, `429`
//! under load, `500 rollup_error`). The webhook URL is the credential: it
//! is never logged nor put in an error.

use std::time::Duration;

use domain::notify::{Alert, DeliveryError};
use serde_json::{Value, json};

use super::{DEFAULT_TIMEOUT, check_status, parse_url, short_code, transport_error};

/// Slack's limit on a header block's text.
const HEADER_MAX: usize = 150;
/// Slack's limit on a section block's text.
const SECTION_MAX: usize = 3000;
/// Kept well below Slack's 40 000 for the top-level fallback.
const FALLBACK_MAX: usize = 3000;

/// Posts alerts to Slack incoming webhooks over a shared HTTP client.
#[derive(Debug, Clone)]
pub struct SlackNotifier {
    http: reqwest::Client,
    timeout: Duration,
}

impl SlackNotifier {
    /// With [`DEFAULT_TIMEOUT`] per request.
    #[must_use]
    pub const fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Posts `alert` to the incoming webhook at `webhook_url`.
    ///
    /// # Errors
    /// Retryable on 408/429/5xx, timeouts and connection failures; permanent
    /// on other answers (revoked hook, archived channel, bad payload) and on
    /// a URL that is not http(s).
    pub async fn send(&self, webhook_url: &str, alert: &Alert) -> Result<(), DeliveryError> {
        let url = parse_url(webhook_url, "Slack webhook")?;
        let response = self
            .http
            .post(url)
            .timeout(self.timeout)
            .json(&payload(alert))
            .send()
            .await
            .map_err(|e| transport_error(&e, "Slack"))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.bytes().await.unwrap_or_default();
        check_status(status, "Slack", short_code(&body).as_deref())
    }
}

/// The incoming-webhook JSON for one alert.
#[must_use]
pub fn payload(alert: &Alert) -> Value {
    let title = if alert.title.trim().is_empty() {
        alert.kind.as_str()
    } else {
        alert.title.trim()
    };
    let severity = alert.severity.as_str().to_ascii_uppercase();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(title, HEADER_MAX), "emoji": true},
    })];
    if !alert.body.trim().is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": escape(alert.body.trim(), SECTION_MAX)},
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{
            "type": "mrkdwn",
            "text": format!("{} · {} · {}", alert.kind.as_str(), alert.severity.as_str(), alert.id),
        }],
    }));
    json!({
        "text": escape(&format!("[{severity}] {title}"), FALLBACK_MAX),
        "blocks": blocks,
    })
}

/// At most `max` characters, the last one `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes the three characters Slack's mrkdwn reserves (`&`, `<`, `>`), so
/// alert text can neither form links nor mention `<!channel>`; cut to `max`
/// characters (the last one `…`) without splitting an entity.
fn escape(s: &str, max: usize) -> String {
    let piece = |c: char| match c {
        '&' => "&amp;".to_owned(),
        '<' => "&lt;".to_owned(),
        '>' => "&gt;".to_owned(),
        c => c.to_string(),
    };
    let full: String = s.chars().map(piece).collect();
    if full.chars().count() <= max {
        return full;
    }
    let mut out = String::new();
    let mut len = 0;
    for p in s.chars().map(piece) {
        let n = p.chars().count();
        if len + n >= max {
            break;
        }
        out.push_str(&p);
        len += n;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_control_characters_are_escaped() {
        assert_eq!(
            escape("CPA > R$ 30 & <!channel>", 100),
            "CPA &gt; R$ 30 &amp; &lt;!channel&gt;"
        );
    }

    #[test]
    fn long_text_is_cut_within_the_limit_and_never_inside_an_entity() {
        let s = "a".repeat(10) + "&&&&&";
        let cut = escape(&s, 14);
        assert!(cut.chars().count() <= 14, "{cut}");
        assert_eq!(cut, "aaaaaaaaaa…");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
