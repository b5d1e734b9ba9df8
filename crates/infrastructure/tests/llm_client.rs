//! `OpenAiCompatibleClient` against a wiremock server speaking the
//! chat-completions format, with the hand-written fixtures of
//! `fixtures/llm/` (see its README). A fake clock records every wait instead
//! of sleeping; one test waits for real (1 s) to show `Retry-After` is
//! honoured end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use domain::ads::Currency;
use domain::assistant::figures::{self, Fact, ModelAnswer, Unit};
use domain::assistant::llm::{ChatMessage, LlmClient, LlmError, LlmRequest, TokenUsage};
use infrastructure::clock::Sleeper;
use infrastructure::llm::openai::{LlmApiKey, OpenAiCompatibleClient, OpenAiConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-FAKE-SECRET-KEY-4242";
const ENDPOINT: &str = "/v1/chat/completions";

// ------------------------------------------------------------------ helpers

fn fixture_text(name: &str) -> String {
    let file = format!("{}/tests/fixtures/llm/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(file).unwrap()
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

/// A clock that only moves when the client sleeps, recording each sleep.
struct FakeClock {
    now: Mutex<SystemTime>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(SystemTime::now()),
            sleeps: Mutex::new(Vec::new()),
        })
    }
    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
    fn advance(&self, d: Duration) {
        *self.now.lock().unwrap() += d;
    }
}

#[async_trait]
impl Sleeper for FakeClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap()
    }
    async fn sleep(&self, d: Duration) {
        self.sleeps.lock().unwrap().push(d);
        self.advance(d);
    }
}

fn config(server: &MockServer, key: Option<&str>) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("{}/v1/", server.uri()),
        api_key: key.map(LlmApiKey::new),
        model: "gpt-4o-mini".into(),
        timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        max_retry_after: Duration::from_secs(5),
        breaker_threshold: 5,
        breaker_cooldown: Duration::from_secs(30),
    }
}

fn client(cfg: OpenAiConfig) -> (OpenAiCompatibleClient, Arc<FakeClock>) {
    let clock = FakeClock::new();
    let c = OpenAiCompatibleClient::with_sleeper(cfg, clock.clone()).unwrap();
    (c, clock)
}

fn question() -> LlmRequest {
    LlmRequest {
        messages: vec![
            ChatMessage::system("Answer from the data only."),
            ChatMessage::user("Como foi a semana passada?"),
        ],
        response_schema: Some(figures::answer_json_schema()),
        temperature: Some(0.2),
        max_tokens: Some(800),
    }
}

fn ok(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(fixture(name))
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

// ------------------------------------------------------------------ requests and replies

#[tokio::test]
async fn sends_the_exact_request_with_schema_and_bearer_key() {
    let server = MockServer::start().await;
    let expected = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer from the data only."},
            {"role": "user", "content": "Como foi a semana passada?"}
        ],
        "temperature": 0.2,
        "max_tokens": 800,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "verified_answer",
                "schema": figures::answer_schema(),
                "strict": true
            }
        }
    });
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .and(bearer_token(KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ok("chat_completion_structured.json"))
        .expect(1)
        .mount(&server)
        .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let reply = c.complete(&question()).await.unwrap();

    assert_eq!(reply.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        reply.usage,
        TokenUsage {
            prompt_tokens: 412,
            completion_tokens: 96,
            total: 508
        }
    );
    assert!(clock.sleeps().is_empty());
    // The content is the structured answer, and it verifies against the data.
    let answer = ModelAnswer::parse(&reply.content).unwrap();
    let brl = Unit::Money(Currency::parse("BRL").unwrap());
    let facts = [
        Fact::new("spend", d("1234.5678"), brl),
        Fact::new("clicks", d("5321"), Unit::Count),
        Fact::new("CTR", d("2.1284"), Unit::Percent),
    ];
    assert_eq!(figures::verify(&answer, &facts), Ok(()));
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent_and_plain_text_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .respond_with(ok("chat_completion_ollama.json"))
        .mount(&server)
        .await;
    let (c, _) = client(OpenAiConfig {
        model: "llama3.1:8b".into(),
        ..config(&server, None)
    });
    let req = LlmRequest::new(vec![ChatMessage::user("oi")]);

    let reply = c.complete(&req).await.unwrap();

    assert_eq!(
        reply.content,
        "Olá! Como posso ajudar com suas campanhas hoje?"
    );
    assert_eq!(reply.usage.total, 38);
    assert_eq!(c.model(), "llama3.1:8b");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].headers.contains_key("authorization"));
    let body: Value = sent[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({"model": "llama3.1:8b", "messages": [{"role": "user", "content": "oi"}]})
    );
}

// ------------------------------------------------------------------ throttling

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    fails_then_answers(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(fixture("error_429_rate_limit.json")),
        1,
        ok("chat_completion_structured.json"),
    )
    .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let reply = c.complete(&question()).await.unwrap();

    assert_eq!(reply.usage.total, 508);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_with_a_real_wait() {
    let server = MockServer::start().await;
    fails_then_answers(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(fixture("error_429_rate_limit.json")),
        1,
        ok("chat_completion_ollama.json"),
    )
    .await;
    let c = OpenAiCompatibleClient::new(config(&server, None)).unwrap();

    let started = Instant::now();
    c.complete(&question()).await.unwrap();

    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_rate_limited_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(fixture("error_429_rate_limit.json")),
        )
        .mount(&server)
        .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert_eq!(
        e,
        LlmError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(e.is_retryable());
    assert!(clock.sleeps().is_empty());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn persistent_throttling_gives_up_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(fixture("error_429_rate_limit.json")),
        )
        .mount(&server)
        .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert_eq!(e, LlmError::RateLimited { retry_after: None });
    assert_eq!(requests(&server).await.len(), 3);
    // No Retry-After: jittered backoff, 100 ms then 200 ms steps.
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&sleeps[0]));
    assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&sleeps[1]));
}

#[tokio::test]
async fn an_exhausted_quota_is_rejected_without_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(fixture("error_429_insufficient_quota.json")),
        )
        .mount(&server)
        .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert!(
        matches!(e, LlmError::Rejected { status: 429, ref message } if message.contains("quota"))
    );
    assert!(clock.sleeps().is_empty());
    assert_eq!(requests(&server).await.len(), 1);
}

// ------------------------------------------------------------------ failures

#[tokio::test]
async fn a_500_then_success_is_retried_after_a_backoff() {
    let server = MockServer::start().await;
    fails_then_answers(
        &server,
        ResponseTemplate::new(500).set_body_json(fixture("error_500.json")),
        1,
        ok("chat_completion_structured.json"),
    )
    .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let reply = c.complete(&question()).await.unwrap();

    assert!(reply.content.starts_with("{\"answer\""));
    assert_eq!(requests(&server).await.len(), 2);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&sleeps[0]));
}

#[tokio::test]
async fn server_errors_that_persist_are_unavailable_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(fixture("error_500.json")))
        .mount(&server)
        .await;
    let (c, _) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert_eq!(
        e,
        LlmError::Unavailable("HTTP 503 (after 3 attempts)".into())
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_timeout_is_retried_then_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok("chat_completion_ollama.json").set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    let (c, _) = client(OpenAiConfig {
        timeout: Duration::from_millis(100),
        max_retries: 1,
        ..config(&server, None)
    });

    let e = c.complete(&question()).await.unwrap_err();

    assert!(
        matches!(&e, LlmError::Unavailable(m) if m.contains("timed out")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_malformed_json_reply_is_a_bad_reply_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(fixture_text("malformed.txt")),
        )
        .mount(&server)
        .await;
    let (c, clock) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert!(matches!(e, LlmError::BadReply(_)), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_completion_without_choices_is_a_bad_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok("chat_completion_no_choices.json"))
        .mount(&server)
        .await;
    let (c, _) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert_eq!(
        e,
        LlmError::BadReply("the completion has no choices".into())
    );
}

#[tokio::test]
async fn a_refused_key_is_misconfigured_and_never_echoed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("error_401_invalid_key.json")),
        )
        .mount(&server)
        .await;
    let (c, _) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert!(matches!(e, LlmError::Misconfigured(_)), "{e:?}");
    assert!(!format!("{e} {e:?} {c:?}").contains(KEY));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_model_is_rejected_with_the_providers_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(fixture("error_400_bad_model.json")))
        .mount(&server)
        .await;
    let (c, _) = client(config(&server, Some(KEY)));

    let e = c.complete(&question()).await.unwrap_err();

    assert!(
        matches!(&e, LlmError::Rejected { status: 404, message } if message.contains("does not exist")),
        "{e:?}"
    );
}

// ------------------------------------------------------------------ circuit breaker

#[tokio::test]
async fn the_circuit_opens_after_consecutive_failures_fails_fast_and_recovers() {
    let server = MockServer::start().await;
    fails_then_answers(
        &server,
        ResponseTemplate::new(500).set_body_json(fixture("error_500.json")),
        3,
        ok("chat_completion_ollama.json"),
    )
    .await;
    let (c, clock) = client(OpenAiConfig {
        max_retries: 0,
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_secs(30),
        ..config(&server, Some(KEY))
    });

    for _ in 0..3 {
        let e = c.complete(&question()).await.unwrap_err();
        assert_eq!(
            e,
            LlmError::Unavailable("HTTP 500 (after 1 attempts)".into())
        );
    }
    // Open: fails at once, nothing sent.
    let e = c.complete(&question()).await.unwrap_err();
    assert!(
        matches!(&e, LlmError::Unavailable(m) if m.contains("circuit open")),
        "{e:?}"
    );
    assert_eq!(requests(&server).await.len(), 3);

    // After the cooldown one trial call goes through; its answer closes it.
    clock.advance(Duration::from_secs(31));
    assert!(c.complete(&question()).await.is_ok());
    assert!(c.complete(&question()).await.is_ok());
    assert_eq!(requests(&server).await.len(), 5);
}

/// `server` answers the first `times` requests with `first`, then `then`.
async fn fails_then_answers(
    server: &MockServer,
    first: ResponseTemplate,
    times: u64,
    then: ResponseTemplate,
) {
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(then)
        .mount(server)
        .await;
}
