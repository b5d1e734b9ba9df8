//! Alert delivery adapters against local receivers only: Slack and generic
//! webhooks through wiremock (exact payloads, headers and signatures; the
//! Slack answers are those of `shared/fixtures/slack/incoming_webhook_responses.json`),
//! e-mail through a small SMTP sink started by each test on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::TenantId;
use domain::notify::{Alert, AlertKind, ChannelTarget, DeliveryError, Notifier, Severity};
use domain::platform::Clock;
use infrastructure::notify::testing::SmtpSink;
use infrastructure::notify::{
    ChannelNotifier, EmailConfigError, EmailNotifier, SlackNotifier, WebhookNotifier, http_client,
    sign, verify,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::net::TcpListener;
use uuid::Uuid;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ALERT_ID: &str = "0190f5a2-7c1e-7b3a-9d4e-1f2a3b4c5d6e";
const TENANT_ID: &str = "0190f5a2-0000-7000-8000-00000000a11c";
const SLACK_PATH: &str = "/services/T0FAKE/B0FAKE/FAKEsecretPath";
const SECRET: &str = "whsec_FAKE_0123";
/// 2026-01-01T00:00:00Z, what the fixed clock says.
const NOW_UNIX: i64 = 1_767_225_600;
const BODY: &str = "CPA R$ 42.10 vs target R$ 30.00 (+40%).\nSpend today: R$ 421.00 over 10 leads.";

// ------------------------------------------------------------------ helpers

fn alert() -> Alert {
    Alert {
        id: Uuid::parse_str(ALERT_ID).unwrap(),
        tenant_id: TENANT_ID.parse::<TenantId>().unwrap(),
        kind: AlertKind::Anomaly,
        severity: Severity::Warning,
        title: "CPA above target on Leads BR".to_owned(),
        body: BODY.to_owned(),
        data: json!({"campaign_id": "120210000000000001", "cpa": "42.10", "target_cpa": "30.00"}),
        created_at: datetime!(2025-12-31 23:59:30 UTC),
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(NOW_UNIX).unwrap()
    }
    fn today_in(&self, _tz: &str) -> time::Date {
        self.now().date()
    }
}

/// Slack and webhooks over the real client; the webhook signs at [`NOW_UNIX`].
fn notifier(email: Option<EmailNotifier>) -> ChannelNotifier {
    let http = http_client().unwrap();
    ChannelNotifier::from_parts(
        SlackNotifier::new(http.clone()),
        WebhookNotifier::new(http).with_clock(Arc::new(FixedClock)),
        email,
    )
}

fn slack_target(server: &MockServer) -> ChannelTarget {
    ChannelTarget::Slack {
        webhook_url: format!("{}{SLACK_PATH}", server.uri()),
    }
}

fn webhook_target(server: &MockServer) -> ChannelTarget {
    ChannelTarget::Webhook {
        url: format!("{}/hooks/adscale", server.uri()),
        secret: SECRET.to_owned(),
    }
}

/// A local address where nothing listens (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

fn assert_no_secret(e: &DeliveryError) {
    let msg = e.to_string();
    for secret in [
        "FAKEsecretPath",
        "T0FAKE",
        SECRET,
        "/hooks/adscale",
        "FAKEpass",
    ] {
        assert!(!msg.contains(secret), "error leaks {secret}: {msg}");
    }
}

// ------------------------------------------------------------------ Slack

#[tokio::test]
async fn slack_payload_has_title_body_and_alert_id() {
    let server = MockServer::start().await;
    let expected = json!({
        "text": "[WARNING] CPA above target on Leads BR",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "CPA above target on Leads BR", "emoji": true}
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": BODY}
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": format!("anomaly.detected · warning · {ALERT_ID}")}
                ]
            }
        ]
    });
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("ok", "text/html"), // Slack's success answer
        )
        .expect(1)
        .mount(&server)
        .await;

    notifier(None)
        .deliver(&slack_target(&server), &alert())
        .await
        .unwrap();
}

#[tokio::test]
async fn slack_mrkdwn_cannot_ping_the_channel_or_form_links() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let mut a = alert();
    a.body = "<!channel> see <https://evil.example|this> & more".to_owned();
    notifier(None)
        .deliver(&slack_target(&server), &a)
        .await
        .unwrap();

    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(
        sent["blocks"][1]["text"]["text"],
        "&lt;!channel&gt; see &lt;https://evil.example|this&gt; &amp; more"
    );
}

#[tokio::test]
async fn slack_refusals_are_permanent_and_throttling_or_outages_retryable() {
    // (status, body, retryable): the answers of the Slack fixture, plus 403
    // invalid_token and a 429 under load.
    let cases = [
        (400, "invalid_payload", false),
        (400, "user_not_found", false),
        (403, "action_prohibited", false),
        (403, "invalid_token", false),
        (404, "channel_not_found", false),
        (404, "no_service", false),
        (410, "channel_is_archived", false),
        (429, "rate_limited", true),
        (500, "rollup_error", true),
        (503, "<html>Service Unavailable</html>", true),
    ];
    for (status, body, retryable) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(SLACK_PATH))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;

        let err = notifier(None)
            .deliver(&slack_target(&server), &alert())
            .await
            .unwrap_err();

        assert_eq!(err.is_retryable(), retryable, "{status} {body}: {err}");
        assert!(err.to_string().contains(&status.to_string()), "{err}");
        if !body.starts_with('<') {
            assert!(
                err.to_string().contains(body),
                "Slack's code is kept: {err}"
            );
        } else {
            assert!(
                !err.to_string().contains("html"),
                "HTML is not copied: {err}"
            );
        }
        assert_no_secret(&err);
    }
}

#[tokio::test]
async fn slack_404_no_service_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&server)
        .await;
    let err = notifier(None)
        .deliver(&slack_target(&server), &alert())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.contains("no_service")),
        "{err}"
    );
}

#[tokio::test]
async fn slack_500_is_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .mount(&server)
        .await;
    let err = notifier(None)
        .deliver(&slack_target(&server), &alert())
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Retryable(_)), "{err}");
}

#[tokio::test]
async fn slack_timeout_is_retryable_and_does_not_leak_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("ok")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let slack = SlackNotifier::new(http_client().unwrap()).with_timeout(Duration::from_millis(200));
    let url = format!("{}{SLACK_PATH}", server.uri());

    let err = slack.send(&url, &alert()).await.unwrap_err();

    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("in time"), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn unreachable_slack_is_retryable_and_does_not_leak_the_url() {
    let addr = closed_port().await;
    let target = ChannelTarget::Slack {
        webhook_url: format!("http://{addr}{SLACK_PATH}"),
    };
    let err = notifier(None).deliver(&target, &alert()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn malformed_slack_url_is_permanent() {
    let target = ChannelTarget::Slack {
        webhook_url: "hooks.slack.com/services/T0FAKE/B0FAKE/FAKEsecretPath".to_owned(),
    };
    let err = notifier(None).deliver(&target, &alert()).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert_no_secret(&err);
}

// ------------------------------------------------------------------ webhook

#[tokio::test]
async fn webhook_posts_signed_alert_with_event_delivery_and_timestamp_headers() {
    let server = MockServer::start().await;
    let expected = json!({
        "id": ALERT_ID,
        "type": "anomaly.detected",
        "severity": "warning",
        "title": "CPA above target on Leads BR",
        "body": BODY,
        "data": {"campaign_id": "120210000000000001", "cpa": "42.10", "target_cpa": "30.00"},
        "created_at": "2025-12-31T23:59:30Z",
        "tenant_id": TENANT_ID,
    });
    Mock::given(method("POST"))
        .and(path("/hooks/adscale"))
        .and(header("content-type", "application/json"))
        .and(header("x-adscale-event", "anomaly.detected"))
        .and(header("x-adscale-delivery", ALERT_ID))
        .and(header("x-adscale-timestamp", NOW_UNIX.to_string().as_str()))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    notifier(None)
        .deliver(&webhook_target(&server), &alert())
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let req = &requests[0];
    let signature = req
        .headers
        .get("x-adscale-signature")
        .unwrap()
        .to_str()
        .unwrap();
    // The signature is over the exact bytes that arrived.
    assert_eq!(signature, sign(SECRET, NOW_UNIX, &req.body));
    assert!(verify(SECRET, NOW_UNIX, &req.body, signature));
    assert!(!verify("whsec_WRONG", NOW_UNIX, &req.body, signature));
    assert!(
        !verify(SECRET, NOW_UNIX + 1, &req.body, signature),
        "a replayed body with a new timestamp fails"
    );
    let mut tampered = req.body.clone();
    tampered.extend_from_slice(b" ");
    assert!(!verify(SECRET, NOW_UNIX, &tampered, signature));
}

#[test]
fn webhook_signature_is_hex_hmac_sha256_of_timestamp_dot_body() {
    // Reference value from an independent HMAC-SHA256 implementation
    // (Python's hmac module) over b'1767225600.{"hello":"world"}'.
    assert_eq!(
        sign(SECRET, NOW_UNIX, br#"{"hello":"world"}"#),
        "sha256=d5207c3d48dbd38f80a8cb09a897723003c0a1055924cf83d273b78df192193d"
    );
}

#[tokio::test]
async fn webhook_retries_carry_the_same_delivery_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let n = notifier(None);
    let target = webhook_target(&server);

    let first = n.deliver(&target, &alert()).await.unwrap_err();
    assert!(first.is_retryable(), "{first}");
    n.deliver(&target, &alert()).await.unwrap();

    let ids: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["x-adscale-delivery"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [ALERT_ID, ALERT_ID]);
}

#[tokio::test]
async fn webhook_client_errors_are_permanent_server_errors_retryable() {
    for (status, retryable) in [
        (400, false),
        (401, false),
        (404, false),
        (410, false),
        (302, false),
        (408, true),
        (429, true),
        (500, true),
        (502, true),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(SECRET))
            .mount(&server)
            .await;
        let err = notifier(None)
            .deliver(&webhook_target(&server), &alert())
            .await
            .unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
        assert_no_secret(&err);
    }
}

// ------------------------------------------------------------------ e-mail

fn email(sink_url: &str) -> EmailNotifier {
    EmailNotifier::new(
        sink_url,
        "AdScale <alerts@adscale.test>",
        Duration::from_secs(5),
    )
    .unwrap()
}

fn email_target(to: &[&str]) -> ChannelTarget {
    ChannelTarget::Email {
        to: to.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[tokio::test]
async fn email_arrives_with_subject_recipients_body_and_stable_message_id() {
    let sink = SmtpSink::start(None).await;
    let n = notifier(Some(email(&sink.url())));
    let target = email_target(&["ana@client.test", "Bruno <bruno@client.test>"]);

    n.deliver(&target, &alert()).await.unwrap();
    n.deliver(&target, &alert()).await.unwrap(); // a retry of the same alert

    let got = sink.received();
    assert_eq!(got.len(), 2);
    let mail = &got[0];
    assert_eq!(mail.mail_from, "<alerts@adscale.test>");
    assert_eq!(mail.rcpt_to, ["<ana@client.test>", "<bruno@client.test>"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[AdScale] CPA above target on Leads BR")
    );
    assert_eq!(
        mail.header("From").as_deref(),
        Some("AdScale <alerts@adscale.test>")
    );
    assert_eq!(
        mail.header("To").as_deref(),
        Some("ana@client.test, Bruno <bruno@client.test>")
    );
    let message_id = format!("<alert.{ALERT_ID}@adscale.test>");
    assert_eq!(
        mail.header("Message-ID").as_deref(),
        Some(message_id.as_str())
    );
    assert_eq!(
        got[1].header("Message-ID"),
        mail.header("Message-ID"),
        "a retried mail is recognisably the same message"
    );
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        mail.body(),
        format!(
            "{BODY}\n\n-- \nAdScale alert\nKind: anomaly.detected\nSeverity: warning\nAlert ID: {ALERT_ID}\n"
        )
    );
}

#[tokio::test]
async fn email_rejected_with_550_on_rcpt_is_permanent() {
    let sink = SmtpSink::start(Some("550 5.1.1 <nobody@client.test>: mailbox unavailable")).await;
    let err = notifier(Some(email(&sink.url())))
        .deliver(&email_target(&["nobody@client.test"]), &alert())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Permanent(m) if m.contains("550")),
        "{err}"
    );
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn email_deferred_with_451_on_rcpt_is_retryable() {
    let sink = SmtpSink::start(Some("451 4.3.0 try again later")).await;
    let err = notifier(Some(email(&sink.url())))
        .deliver(&email_target(&["ana@client.test"]), &alert())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Retryable(m) if m.contains("451")),
        "{err}"
    );
}

#[tokio::test]
async fn email_to_an_invalid_address_is_permanent_before_connecting() {
    let sink = SmtpSink::start(None).await;
    let n = notifier(Some(email(&sink.url())));
    for to in [&["ana@client.test", "not an address"][..], &[]] {
        let err = n.deliver(&email_target(to), &alert()).await.unwrap_err();
        assert!(!err.is_retryable(), "{err}");
    }
    assert_eq!(sink.sessions(), 0, "nothing was sent to the server");
}

#[tokio::test]
async fn unreachable_smtp_server_is_retryable() {
    let addr = closed_port().await;
    let url = format!("smtp://alerts:FAKEpass@{addr}");
    let err = notifier(Some(email(&url)))
        .deliver(&email_target(&["ana@client.test"]), &alert())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn email_without_smtp_configured_is_permanent() {
    let err = notifier(None)
        .deliver(&email_target(&["ana@client.test"]), &alert())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        DeliveryError::Permanent("e-mail is not configured".to_owned())
    );
}

#[test]
fn bad_email_settings_are_refused_without_echoing_the_password() {
    let bad_url = EmailNotifier::new(
        "gopher://alerts:FAKEpass@mail.test",
        "alerts@adscale.test",
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert_eq!(bad_url, EmailConfigError::SmtpUrl);
    assert!(!bad_url.to_string().contains("FAKEpass"));
    let bad_from =
        EmailNotifier::new("smtp://127.0.0.1:25", "AdScale", Duration::from_secs(1)).unwrap_err();
    assert_eq!(bad_from, EmailConfigError::From);
}

// ------------------------------------------------------------------ redaction

#[test]
fn debug_of_targets_and_notifiers_hides_urls_secrets_and_passwords() {
    let slack = ChannelTarget::Slack {
        webhook_url: format!("https://hooks.slack.com{SLACK_PATH}"),
    };
    let hook = ChannelTarget::Webhook {
        url: "https://receiver.test/hooks/adscale?token=FAKEsecretPath".to_owned(),
        secret: SECRET.to_owned(),
    };
    let mail = EmailNotifier::new(
        "smtp://alerts:FAKEpass@127.0.0.1:2525",
        "alerts@adscale.test",
        Duration::from_secs(1),
    )
    .unwrap();
    let shown = format!(
        "{slack:?} {hook:?} {mail:?} {:?}",
        notifier(Some(mail.clone()))
    );
    for secret in [
        "FAKEsecretPath",
        "T0FAKE",
        SECRET,
        "/hooks/adscale",
        "FAKEpass",
    ] {
        assert!(!shown.contains(secret), "Debug leaks {secret}: {shown}");
    }
    assert!(
        shown.contains("https://hooks.slack.com/<redacted>"),
        "{shown}"
    );
    assert!(
        shown.contains("https://receiver.test/<redacted>"),
        "{shown}"
    );
}
