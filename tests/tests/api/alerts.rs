//! Alerts end to end on both backends: notification channels through the
//! API (validation, secrets never shown, roles, tenancy), and alerts written
//! with the event that caused them (a new suggestion, a failed sync) and
//! delivered by the worker once per channel — to a Slack webhook and a
//! signed webhook (wiremock, exact payloads) and by e-mail (a local SMTP
//! server) — with retries for failures worth retrying and the failures that
//! are not visible on `GET /alerts`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, on_both_backends, register, settings};
use application::notify::{DeliverAlerts, DeliveryRound};
use domain::notify::RetryPolicy;
use domain::{AdAccountId, TenantId};
use infrastructure::clock::SystemClock;
use infrastructure::notify::testing::SmtpSink;
use infrastructure::notify::webhook::{
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use infrastructure::notify::{ChannelNotifier, EmailNotifier, http_client, verify};
use infrastructure::secret_box::AesSecretBox;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ingestion::{import, new_account};
use crate::suggestions::{CSV, evaluator};

on_both_backends!(
    channels_are_created_read_changed_and_deleted_without_showing_their_secrets,
    invalid_channels_are_refused_with_every_bad_field_named,
    members_below_admin_cannot_change_channels_and_other_tenants_get_404,
    a_new_suggestion_alert_reaches_slack_the_webhook_and_email_exactly_once,
    a_500_is_retried_until_delivered_and_a_400_fails_visibly,
    a_test_alert_goes_to_that_channel_only,
    a_channel_deleted_before_delivery_fails_its_pending_delivery,
    a_failed_sync_alerts_the_tenant,
);

const SLACK_PATH: &str = "/services/T0FAKE/B0FAKE/FAKEslackSecretPath";
const HOOK_PATH: &str = "/hooks/FAKEhookPathToken";
const HOOK_SECRET: &str = "whsec_FAKE_0123456789abcdef";
/// When tests deliver: after every alert they write (suggestions are dated
/// 2026-10-04 by the evaluator's clock).
const NOW: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

/// The worker's delivery step over the test app's database, with e-mail
/// through `smtp` when given; three attempts, 10 s doubling to 60 s.
pub(crate) fn deliverer(t: &TestApp, smtp: Option<&SmtpSink>) -> DeliverAlerts {
    let email = smtp.map(|s| {
        EmailNotifier::new(
            &s.url(),
            "AdScale <alerts@adscale.test>",
            Duration::from_secs(5),
        )
        .unwrap()
    });
    let secrets = AesSecretBox::from_encoded(&settings(None).encryption_key).unwrap();
    DeliverAlerts::new(
        t.adapters.db.clone(),
        Arc::new(ChannelNotifier::new(http_client().unwrap(), email)),
        Arc::new(secrets),
        Arc::new(SystemClock),
        RetryPolicy {
            max_attempts: 3,
            base: time::Duration::seconds(10),
            max: time::Duration::seconds(60),
        },
        time::Duration::minutes(5),
        20,
    )
}

async fn create_channel<S, B>(app: &S, cred: &Cred, body: Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(
        app,
        Method::POST,
        "/api/v1/notification-channels",
        cred,
        Some(body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.data().clone()
}

fn slack_body(server: &MockServer) -> Value {
    json!({"name": "Marketing Slack", "kind": "slack", "config": {"webhook_url": format!("{}{SLACK_PATH}", server.uri())}})
}

fn hook_body(server: &MockServer) -> Value {
    json!({"name": "CRM hook", "kind": "webhook", "config": {"url": format!("{}{HOOK_PATH}", server.uri()), "secret": HOOK_SECRET}})
}

/// Registers a tenant with one ad account, imports the low-CTR campaign and
/// runs the evaluator: one PAUSE suggestion (and its alert) is written.
async fn suggest<S, B>(t: &TestApp, app: &S, cred: &Cred, org_id: &str) -> (TenantId, AdAccountId)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let account = new_account(app, cred, None).await;
    let r = import(app, cred, &account, CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let tenant = TenantId::from_uuid(org_id.parse().unwrap());
    let account = AdAccountId::from_uuid(account.parse().unwrap());
    let counts = evaluator(t).execute(tenant, account).await.unwrap();
    assert_eq!(counts.created, 1);
    (tenant, account)
}

fn no_secrets(v: &Value) {
    let text = v.to_string();
    for secret in [
        "FAKEslackSecretPath",
        "FAKEhookPathToken",
        HOOK_SECRET,
        "services/T0FAKE",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

async fn channels_are_created_read_changed_and_deleted_without_showing_their_secrets(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();

    let created = create_channel(
        &app,
        &cred,
        json!({"name": " Marketing Slack ", "kind": "slack",
               "config": {"webhook_url": "https://hooks.slack.com/services/T0FAKE/B0FAKE/FAKEslackSecretPath"},
               "events": ["suggestion.created", "token.expired"], "min_severity": "warning"}),
    )
    .await;
    no_secrets(&created);
    assert_eq!(created["name"], json!("Marketing Slack"));
    assert_eq!(created["kind"], json!("slack"));
    assert_eq!(
        created["target"],
        json!("https://hooks.slack.com/<redacted>")
    );
    assert_eq!(
        created["events"],
        json!(["suggestion.created", "token.expired"])
    );
    assert_eq!(created["min_severity"], json!("warning"));
    assert_eq!(created["enabled"], json!(true));
    assert!(created.get("config").is_none());
    let id = created["id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/notification-channels/{id}");

    let hook = create_channel(
        &app,
        &cred,
        json!({"name": "CRM", "kind": "webhook", "config": {"url": "https://crm.example.com/hooks/FAKEhookPathToken", "secret": HOOK_SECRET}}),
    )
    .await;
    no_secrets(&hook);
    assert_eq!(hook["target"], json!("https://crm.example.com/<redacted>"));
    assert_eq!(
        (&hook["events"], &hook["min_severity"]),
        (&json!([]), &Value::Null)
    );
    let mail = create_channel(
        &app,
        &cred,
        json!({"name": "Team mail", "kind": "email", "config": {"to": ["Ana@Example.com", "bruno@example.com"]}}),
    )
    .await;
    assert_eq!(mail["target"], json!("ana@example.com, bruno@example.com"));

    let one = call(&app, Method::GET, &url, &cred, None).await;
    assert_eq!(one.data(), &created);
    let list = call(
        &app,
        Method::GET,
        "/api/v1/notification-channels",
        &cred,
        None,
    )
    .await;
    let ids: Vec<&str> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            mail["id"].as_str().unwrap(),
            hook["id"].as_str().unwrap(),
            &id
        ],
        "newest first"
    );
    no_secrets(&list.body);

    let patched = call(
        &app,
        Method::PATCH,
        &url,
        &cred,
        Some(json!({"name": "Slack #ads", "enabled": false, "min_severity": null,
                    "config": {"webhook_url": "https://hooks.slack.com/services/T0FAKE/B0FAKE/FAKEslackSecretPath2"}})),
    )
    .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", patched.body);
    let p = patched.data();
    no_secrets(p);
    assert_eq!(
        (&p["name"], &p["enabled"], &p["min_severity"]),
        (&json!("Slack #ads"), &json!(false), &Value::Null)
    );
    assert_eq!(p["events"], created["events"], "absent fields stay");

    let kind_change = call(
        &app,
        Method::PATCH,
        &url,
        &cred,
        Some(json!({"config": {"to": ["a@b.co"]}})),
    )
    .await;
    kind_change.assert_error(422, "VALIDATION_FAILED");

    let del = call(&app, Method::DELETE, &url, &cred, None).await;
    assert_eq!(del.status.as_u16(), 204);
    call(&app, Method::GET, &url, &cred, None)
        .await
        .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");
    call(&app, Method::DELETE, &url, &cred, None)
        .await
        .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");

    let audit = call(
        &app,
        Method::GET,
        &format!("/api/v1/audit-log?entity_id={id}"),
        &cred,
        None,
    )
    .await;
    {
        let actions: Vec<&str> = audit
            .data()
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(
            actions.contains(&"notification_channel.create"),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"notification_channel.delete"),
            "{actions:?}"
        );
        no_secrets(&audit.body);
    }
}

async fn invalid_channels_are_refused_with_every_bad_field_named(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let cases = [
        (
            json!({"name": "", "kind": "webhook", "config": {"url": "http://crm.example.com/x", "secret": "short"}, "events": ["nope"], "min_severity": "loud"}),
            vec![
                "config.secret",
                "config.url",
                "events[0]",
                "min_severity",
                "name",
            ],
        ),
        (
            json!({"name": "x", "kind": "sms", "config": {}}),
            vec!["kind"],
        ),
        (json!({"name": "x", "kind": "slack"}), vec!["config"]),
        (
            json!({"name": "x", "kind": "slack", "config": {"webhook_url": "ftp://hooks.slack.com/x"}}),
            vec!["config.webhook_url"],
        ),
        (
            json!({"name": "x", "kind": "slack", "config": {"webhook_url": "https://user:pw@hooks.slack.com/x"}}),
            vec!["config.webhook_url"],
        ),
        (
            json!({"name": "x", "kind": "email", "config": {"to": ["ana@example.com", "not-an-address"]}}),
            vec!["config.to[1]"],
        ),
        (
            json!({"name": "x", "kind": "email", "config": {"to": []}}),
            vec!["config.to"],
        ),
    ];
    for (body, fields) in cases {
        let r = call(
            &app,
            Method::POST,
            "/api/v1/notification-channels",
            &cred,
            Some(body.clone()),
        )
        .await;
        r.assert_error(422, "VALIDATION_FAILED");
        let got: Vec<&str> = r.body["details"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(got, fields, "{body}");
        assert!(!r.body.to_string().contains("pw@"), "{}", r.body);
    }
    let list = call(
        &app,
        Method::GET,
        "/api/v1/notification-channels",
        &cred,
        None,
    )
    .await;
    assert_eq!(list.data(), &json!([]), "nothing was stored");
}

async fn members_below_admin_cannot_change_channels_and_other_tenants_get_404(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let other = register(&app, "Other").await;
    let cred = owner.cred();
    let c = create_channel(
        &app,
        &cred,
        json!({"name": "Mail", "kind": "email", "config": {"to": ["ana@example.com"]}}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let url = format!("/api/v1/notification-channels/{id}");

    let key = call(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &cred,
        Some(json!({"name": "analyst", "role": "analyst"})),
    )
    .await;
    assert_eq!(key.status.as_u16(), 201, "{}", key.body);
    let analyst = Cred::ApiKey(key.data()["key"].as_str().unwrap().to_owned());
    let read = call(&app, Method::GET, &url, &analyst, None).await;
    assert_eq!(read.data()["id"], json!(id), "members read");
    call(&app, Method::GET, "/api/v1/alerts", &analyst, None)
        .await
        .data();
    for (m, u, body) in [
        (
            Method::POST,
            "/api/v1/notification-channels".to_owned(),
            Some(json!({"name": "x", "kind": "email", "config": {"to": ["a@b.co"]}})),
        ),
        (Method::PATCH, url.clone(), Some(json!({"enabled": false}))),
        (Method::DELETE, url.clone(), None),
        (Method::POST, format!("{url}/test"), None),
    ] {
        call(&app, m.clone(), &u, &analyst, body)
            .await
            .assert_error(403, "FORBIDDEN");
    }

    // Another organization: the channel and its alerts do not exist.
    let them = other.cred();
    call(&app, Method::GET, &url, &them, None)
        .await
        .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");
    call(
        &app,
        Method::PATCH,
        &url,
        &them,
        Some(json!({"enabled": false})),
    )
    .await
    .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");
    call(&app, Method::DELETE, &url, &them, None)
        .await
        .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");
    call(&app, Method::POST, &format!("{url}/test"), &them, None)
        .await
        .assert_error(404, "NOTIFICATION_CHANNEL_NOT_FOUND");
    let theirs = call(
        &app,
        Method::GET,
        "/api/v1/notification-channels",
        &them,
        None,
    )
    .await;
    assert_eq!(theirs.data(), &json!([]));

    let test = call(&app, Method::POST, &format!("{url}/test"), &cred, None).await;
    assert_eq!(test.status.as_u16(), 202, "{}", test.body);
    let alert_id = test.data()["id"].as_str().unwrap();
    call(
        &app,
        Method::GET,
        &format!("/api/v1/alerts/{alert_id}"),
        &them,
        None,
    )
    .await
    .assert_error(404, "ALERT_NOT_FOUND");
    assert_eq!(
        call(&app, Method::GET, "/api/v1/alerts", &them, None)
            .await
            .data(),
        &json!([])
    );
    call(&app, Method::GET, "/api/v1/alerts/not-a-uuid", &cred, None)
        .await
        .assert_error(400, "INVALID_PARAMETER");
    call(&app, Method::GET, "/api/v1/alerts?status=LOST", &cred, None)
        .await
        .assert_error(422, "VALIDATION_FAILED");
}

async fn a_new_suggestion_alert_reaches_slack_the_webhook_and_email_exactly_once(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let slack = MockServer::start().await;
    let hook = MockServer::start().await;
    let smtp = SmtpSink::start(None).await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(204))
        .mount(&hook)
        .await;
    create_channel(&app, &cred, slack_body(&slack)).await;
    create_channel(&app, &cred, hook_body(&hook)).await;
    create_channel(
        &app,
        &cred,
        json!({"name": "Team mail", "kind": "email", "config": {"to": ["ana@client.test"]}}),
    )
    .await;
    // Not for suggestions: receives nothing.
    create_channel(&app, &cred, json!({"name": "Only syncs", "kind": "email", "config": {"to": ["ops@client.test"]}, "events": ["sync.failed"]})).await;
    // Disabled: receives nothing.
    create_channel(&app, &cred, json!({"name": "Off", "kind": "email", "config": {"to": ["off@client.test"]}, "enabled": false})).await;

    let (tenant, account) = suggest(&t, &app, &cred, &owner.org_id).await;
    let deliver = deliverer(&t, Some(&smtp));
    let first = deliver.drain_at(NOW).await.unwrap();
    assert_eq!(
        first,
        DeliveryRound {
            claimed: 3,
            delivered: 3,
            retried: 0,
            failed: 0
        }
    );

    // The alert as stored and listed.
    let list = call(&app, Method::GET, "/api/v1/alerts", &cred, None).await;
    let alerts = list.data().as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    let suggestion = call(&app, Method::GET, "/api/v1/suggestions", &cred, None)
        .await
        .data()[0]
        .clone();
    assert_eq!(a["kind"], json!("suggestion.created"));
    assert_eq!(a["severity"], json!("warning"));
    assert_eq!(a["title"], json!("Suggestion: pause campaign \"Low CTR\""));
    let body = format!(
        "Rule \"Low CTR or high CPA\" (version 1) fired for campaign \"Low CTR\".\n\
         Why: CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)\n\
         Window: 2026-10-01 to 2026-10-03\n\
         Proposed: pause the campaign.\n\
         Review it in AdScale (suggestion {}).",
        suggestion["id"].as_str().unwrap()
    );
    assert_eq!(a["body"], json!(body));
    assert_eq!(a["data"]["suggestion_id"], suggestion["id"]);
    assert_eq!(a["data"]["entity_name"], json!("Low CTR"));
    assert_eq!(
        a["created_at"], suggestion["created_at"],
        "written with the suggestion"
    );
    let deliveries = a["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{deliveries:?}");
    for d in deliveries {
        assert_eq!(
            (&d["status"], &d["attempts"]),
            (&json!("DELIVERED"), &json!(1)),
            "{d}"
        );
        assert!(
            d.get("last_error").is_none() && d["delivered_at"].is_string(),
            "{d}"
        );
    }
    let alert_id = a["id"].as_str().unwrap().to_owned();
    let tenant_id = tenant.to_string();

    // Slack: exactly this payload, once.
    let got = slack.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    let slack_json: Value = serde_json::from_slice(&got[0].body).unwrap();
    let escaped = body.replace('<', "&lt;");
    assert_eq!(
        slack_json,
        json!({
            "text": "[WARNING] Suggestion: pause campaign \"Low CTR\"",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Suggestion: pause campaign \"Low CTR\"", "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": escaped}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("suggestion.created · warning · {alert_id}")}]},
            ],
        })
    );

    // The webhook: the signed document, once.
    let got = hook.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    let header = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header(EVENT_HEADER), "suggestion.created");
    assert_eq!(header(DELIVERY_HEADER), alert_id);
    let ts: i64 = header(TIMESTAMP_HEADER).parse().unwrap();
    assert!(
        verify(HOOK_SECRET, ts, &req.body, &header(SIGNATURE_HEADER)),
        "signature"
    );
    let doc: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        doc,
        json!({
            "id": alert_id, "type": "suggestion.created", "severity": "warning",
            "title": a["title"], "body": body, "data": a["data"],
            "created_at": "2026-10-04T12:00:00Z", "tenant_id": tenant_id,
        })
    );

    // E-mail: one message to the one matching address.
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, ["<ana@client.test>"]);
    assert_eq!(
        mails[0].header("Subject").unwrap(),
        "[AdScale] Suggestion: pause campaign \"Low CTR\""
    );
    assert!(mails[0].body().starts_with(&body), "{}", mails[0].body());

    // Running the worker again, and evaluating again, sends nothing twice.
    let again = deliver
        .drain_at(NOW + time::Duration::hours(24))
        .await
        .unwrap();
    assert_eq!(again, DeliveryRound::default());
    assert_eq!(
        evaluator(&t)
            .execute(tenant, account)
            .await
            .unwrap()
            .created,
        0
    );
    assert_eq!(
        deliver.drain_at(NOW).await.unwrap(),
        DeliveryRound::default()
    );
    assert_eq!(slack.received_requests().await.unwrap().len(), 1);
    assert_eq!(hook.received_requests().await.unwrap().len(), 1);
    assert_eq!(smtp.received().len(), 1);
    let list = call(&app, Method::GET, "/api/v1/alerts", &cred, None).await;
    assert_eq!(list.data().as_array().unwrap().len(), 1);
}

async fn a_500_is_retried_until_delivered_and_a_400_fails_visibly(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let flaky = MockServer::start().await;
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&refusing)
        .await;
    let flaky_ch = create_channel(&app, &cred, hook_body(&flaky)).await;
    let refusing_ch = create_channel(&app, &cred, json!({"name": "Refusing", "kind": "slack", "config": {"webhook_url": format!("{}{SLACK_PATH}", refusing.uri())}})).await;
    suggest(&t, &app, &cred, &owner.org_id).await;
    let deliver = deliverer(&t, None);

    let first = deliver.drain_at(NOW).await.unwrap();
    assert_eq!(
        first,
        DeliveryRound {
            claimed: 2,
            delivered: 0,
            retried: 1,
            failed: 1
        }
    );

    let failed = call(
        &app,
        Method::GET,
        "/api/v1/alerts?status=FAILED",
        &cred,
        None,
    )
    .await;
    let items = failed.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_str().unwrap().to_owned();
    let by_channel = |alert: &Value, ch: &Value| {
        alert["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["channel_id"] == ch["id"])
            .unwrap()
            .clone()
    };
    let refused = by_channel(&items[0], &refusing_ch);
    assert_eq!(
        (&refused["status"], &refused["attempts"]),
        (&json!("FAILED"), &json!(1))
    );
    assert_eq!(refused["last_error"], json!("Slack answered HTTP 400"));
    assert!(refused.get("next_attempt_at").is_none());
    let pending = by_channel(&items[0], &flaky_ch);
    assert_eq!(
        (&pending["status"], &pending["attempts"]),
        (&json!("PENDING"), &json!(1))
    );
    assert_eq!(
        pending["last_error"],
        json!("the webhook receiver answered HTTP 500")
    );
    assert!(pending["next_attempt_at"].is_string());
    no_secrets(&failed.body);
    let delivered = call(
        &app,
        Method::GET,
        "/api/v1/alerts?status=DELIVERED",
        &cred,
        None,
    )
    .await;
    assert_eq!(delivered.data(), &json!([]));

    // Not due yet: nothing happens; after the backoff it is delivered.
    assert_eq!(
        deliver.drain_at(NOW).await.unwrap(),
        DeliveryRound::default()
    );
    let later = deliver
        .drain_at(NOW + time::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        later,
        DeliveryRound {
            claimed: 1,
            delivered: 1,
            retried: 0,
            failed: 0
        }
    );
    assert_eq!(flaky.received_requests().await.unwrap().len(), 2);
    assert_eq!(
        refusing.received_requests().await.unwrap().len(),
        1,
        "a refusal is not retried"
    );
    let one = call(
        &app,
        Method::GET,
        &format!("/api/v1/alerts/{id}"),
        &cred,
        None,
    )
    .await;
    let d = by_channel(one.data(), &flaky_ch);
    assert_eq!(
        (&d["status"], &d["attempts"]),
        (&json!("DELIVERED"), &json!(2))
    );
    let kinds = call(
        &app,
        Method::GET,
        "/api/v1/alerts?kind=sync.failed",
        &cred,
        None,
    )
    .await;
    assert_eq!(kinds.data(), &json!([]));
}

async fn a_test_alert_goes_to_that_channel_only(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let slack = MockServer::start().await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let s = create_channel(&app, &cred, slack_body(&slack)).await;
    let h = create_channel(&app, &cred, json!({"name": "Only syncs", "kind": "webhook", "events": ["sync.failed"], "config": {"url": format!("{}{HOOK_PATH}", hook.uri()), "secret": HOOK_SECRET}})).await;

    let r = call(
        &app,
        Method::POST,
        &format!(
            "/api/v1/notification-channels/{}/test",
            h["id"].as_str().unwrap()
        ),
        &cred,
        None,
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let alert = r.data().clone();
    assert_eq!(alert["kind"], json!("channel.test"));
    assert_eq!(
        alert["title"],
        json!("Test alert for channel \"Only syncs\"")
    );
    assert_eq!(
        r.header("Location").unwrap(),
        format!("/api/v1/alerts/{}", alert["id"].as_str().unwrap())
    );

    let round = deliverer(&t, None).drain_at(NOW).await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 1));
    assert_eq!(
        hook.received_requests().await.unwrap().len(),
        1,
        "its filter does not stop a test"
    );
    assert!(slack.received_requests().await.unwrap().is_empty());
    let got = call(
        &app,
        Method::GET,
        r.header("Location").unwrap(),
        &cred,
        None,
    )
    .await;
    let deliveries = got.data()["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (&deliveries[0]["channel_id"], &deliveries[0]["status"]),
        (&h["id"], &json!("DELIVERED"))
    );
    assert_eq!(deliveries[0]["channel_name"], json!("Only syncs"));

    let off = call(
        &app,
        Method::PATCH,
        &format!(
            "/api/v1/notification-channels/{}",
            s["id"].as_str().unwrap()
        ),
        &cred,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(off.status.as_u16(), 200);
    call(
        &app,
        Method::POST,
        &format!(
            "/api/v1/notification-channels/{}/test",
            s["id"].as_str().unwrap()
        ),
        &cred,
        None,
    )
    .await
    .assert_error(409, "CHANNEL_DISABLED");
}

async fn a_channel_deleted_before_delivery_fails_its_pending_delivery(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let s = create_channel(&app, &cred, slack_body(&slack)).await;
    suggest(&t, &app, &cred, &owner.org_id).await;
    let url = format!(
        "/api/v1/notification-channels/{}",
        s["id"].as_str().unwrap()
    );
    assert_eq!(
        call(&app, Method::DELETE, &url, &cred, None)
            .await
            .status
            .as_u16(),
        204
    );

    let round = deliverer(&t, None).drain_at(NOW).await.unwrap();
    assert_eq!((round.claimed, round.failed), (1, 1));
    assert!(slack.received_requests().await.unwrap().is_empty());
    let list = call(
        &app,
        Method::GET,
        "/api/v1/alerts?status=FAILED",
        &cred,
        None,
    )
    .await;
    let d = &list.data()[0]["deliveries"][0];
    assert_eq!(d["channel_name"], json!("Marketing Slack"));
    assert_eq!(
        d["last_error"],
        json!("the channel was deleted before the alert was delivered")
    );
}

async fn a_failed_sync_alerts_the_tenant(t: TestApp) {
    use application::ingestion::sync::RunSync;
    use domain::ingestion::SyncJob;

    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let cred = owner.cred();
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    create_channel(&app, &cred, json!({"name": "Ops", "kind": "webhook", "events": ["sync.failed", "token.expired"], "config": {"url": format!("{}{HOOK_PATH}", hook.uri()), "secret": HOOK_SECRET}})).await;
    // A token, so the run reaches the Graph API — where nothing listens.
    let account = new_account(&app, &cred, Some("FAKE-token")).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/ad-accounts/{account}/sync"),
        &cred,
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let run_id = r.data()["sync_run_id"].as_str().unwrap().to_owned();

    let job = SyncJob {
        tenant_id: TenantId::from_uuid(owner.org_id.parse().unwrap()),
        sync_run_id: domain::SyncRunId::from_uuid(run_id.parse().unwrap()),
    };
    let run = RunSync::new(t.ingestion.clone());
    for _ in 0..t.ingestion.settings.max_attempts {
        run.execute(job).await.unwrap();
    }
    let status = call(
        &app,
        Method::GET,
        &format!("/api/v1/sync-runs/{run_id}"),
        &cred,
        None,
    )
    .await;
    assert_eq!(status.data()["status"], json!("failed"), "{}", status.body);

    let list = call(
        &app,
        Method::GET,
        "/api/v1/alerts?kind=sync.failed",
        &cred,
        None,
    )
    .await;
    let items = list.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "one alert for the failed run: {items:?}");
    let a = &items[0];
    assert_eq!(a["title"], json!("Sync failed for ad account \"Main\""));
    assert_eq!(a["data"]["sync_run_id"], json!(run_id));
    assert!(a["body"].as_str().unwrap().contains("Error: "), "{a}");
    assert_eq!(a["deliveries"][0]["status"], json!("PENDING"));
    no_secrets(&list.body);
    assert!(!list.body.to_string().contains("FAKE-token"));

    let round = deliverer(&t, None).drain_at(NOW).await.unwrap();
    assert_eq!(round.delivered, 1);
    let got = hook.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].headers.get(EVENT_HEADER).unwrap(), "sync.failed");
}

/// PostgreSQL only: several workers share the outbox (SQLite runs one).
#[actix_web::test]
async fn two_workers_on_postgres_deliver_each_alert_once() {
    use domain::notify::{Alert, AlertOutbox, ChannelId};
    use std::collections::HashSet;

    let t = TestApp::new(adscale_tests::Backend::Postgres).await;
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(20)))
        .mount(&hook)
        .await;
    let ch = create_channel(&app, &owner.cred(), hook_body(&hook)).await;
    let channel = ChannelId::from_uuid(ch["id"].as_str().unwrap().parse().unwrap());
    let tenant = TenantId::from_uuid(owner.org_id.parse().unwrap());
    for i in 0..30 {
        let alert = Alert::channel_test(tenant, &format!("n{i}"), NOW - time::Duration::minutes(1));
        assert!(t.adapters.db.enqueue_to(&alert, channel).await.unwrap());
    }

    let (a, b) = (deliverer(&t, None), deliverer(&t, None));
    let (ra, rb) = tokio::join!(a.drain_at(NOW), b.drain_at(NOW));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.delivered + rb.delivered, 30, "{ra:?} {rb:?}");
    assert_eq!(ra.claimed + rb.claimed, 30, "no delivery claimed twice");
    let got = hook.received_requests().await.unwrap();
    let ids: HashSet<String> = got
        .iter()
        .map(|r| {
            r.headers
                .get(DELIVERY_HEADER)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!((got.len(), ids.len()), (30, 30));
}

#[actix_web::test]
async fn an_expired_token_alerts_once_to_reconnect_the_account_sqlite() {
    an_expired_token_alerts_once_to_reconnect_the_account(adscale_tests::Backend::Sqlite).await;
}

#[actix_web::test]
async fn an_expired_token_alerts_once_to_reconnect_the_account_postgres() {
    an_expired_token_alerts_once_to_reconnect_the_account(adscale_tests::Backend::Postgres).await;
}

async fn an_expired_token_alerts_once_to_reconnect_the_account(backend: adscale_tests::Backend) {
    use application::ingestion::sync::RunSync;

    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbCdEf"}})))
        .mount(&graph)
        .await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let (t, cred, account, job) =
        crate::ingestion::synced_app_for(backend, &graph, "2026-10-01", "2026-10-02").await;
    let app = t.service().await;
    create_channel(
        &app,
        &cred,
        json!({"name": "Urgent", "kind": "slack", "min_severity": "critical",
               "config": {"webhook_url": format!("{}{SLACK_PATH}", slack.uri())}}),
    )
    .await;

    RunSync::new(t.ingestion.clone())
        .execute(job)
        .await
        .unwrap();
    let list = call(&app, Method::GET, "/api/v1/alerts", &cred, None).await;
    let items = list.data().as_array().unwrap().clone();
    assert_eq!(
        items.len(),
        1,
        "only the expired token, not also a sync failure: {items:?}"
    );
    let a = &items[0];
    assert_eq!(
        (&a["kind"], &a["severity"]),
        (&json!("token.expired"), &json!("critical"))
    );
    assert_eq!(
        a["title"],
        json!("Reconnect ad account \"Main\": its access token expired")
    );
    assert_eq!(a["data"]["ad_account_id"], json!(account));

    let round = deliverer(&t, None).drain_at(NOW).await.unwrap();
    assert_eq!(round.delivered, 1);
    let got = slack.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    let msg: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        msg["text"],
        json!("[CRITICAL] Reconnect ad account \"Main\": its access token expired")
    );
}
