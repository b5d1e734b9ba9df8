//! The assistant end to end on both backends: without a model the built-in
//! answerer replies with the KPI API's numbers; conversations remember (and
//! summarize beyond ten turns), are the tenant's alone, can be deleted and
//! their answers flagged; with a model (a wiremock server speaking chat
//! completions) a lying model never gets its numbers shown and a truthful
//! one answers in `llm` mode. The organization's token usage counts what
//! the model spent, per source and day, and nothing of other tenants.

use actix_web::http::Method;
use adscale_tests::{Backend, Cred, Reply, TestApp, call, get, on_both_backends, register};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ingestion::{import, new_account};
use crate::suggestions::CSV;

on_both_backends!(
    built_in_mode_answers_a_kpi_question_with_the_kpi_apis_numbers,
    conversations_remember_in_order_and_summarize_beyond_ten_turns,
    conversations_are_the_tenants_alone,
    a_conversation_can_be_deleted_and_an_answer_flagged,
    flagged_answers_are_listed_for_review_across_conversations_newest_first,
    bad_chat_input_is_refused_with_422,
    built_in_chat_spends_no_tokens_and_a_bad_usage_range_is_refused
);

both!(
    a_model_that_lies_twice_is_replaced_by_the_unverified_answer_with_the_real_figures,
    a_model_that_answers_with_the_data_is_shown_in_llm_mode,
    usage_counts_the_models_tokens_for_its_tenant_only_and_keeps_them_after_a_delete
);

const QUESTION: &str = "What was my spend from 2026-10-01 to 2026-10-03?";

async fn chat<S, B>(app: &S, cred: &Cred, body: Value) -> Reply
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    call(app, Method::POST, "/api/v1/chat", cred, Some(body)).await
}

/// An owner with the fixture's Oct 1–3 rows imported; returns (cred, account).
pub(crate) async fn imported(t: &TestApp) -> (Cred, String) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let account = new_account(&app, &owner.cred(), None).await;
    let r = import(&app, &owner.cred(), &account, CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    (owner.cred(), account)
}

fn figure<'a>(reply: &'a Value, label: &str) -> &'a Value {
    reply["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == json!(label))
        .unwrap_or_else(|| panic!("no figure {label} in {reply}"))
}

pub(crate) fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        v => v.as_f64().unwrap(),
    }
}

async fn built_in_mode_answers_a_kpi_question_with_the_kpi_apis_numbers(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let r = chat(&app, &owner, json!({"message": QUESTION})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let reply = r.data();
    assert_eq!(
        (&reply["mode"], &reply["verified"]),
        (&json!("builtin"), &json!(true))
    );
    assert_eq!(reply["verified"], json!(true));
    assert_eq!(reply["intent"], json!("kpis"));
    assert_eq!(reply["ad_account_id"], json!(account));
    assert_eq!(reply["usage"]["prompt_tokens"], json!(0));
    let answer = reply["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("2026-10-01 to 2026-10-03: spend 40.00 BRL"),
        "{answer}"
    );

    let kpis = get(
        &app,
        &owner,
        &format!("/api/v1/ad-accounts/{account}/kpis?from=2026-10-01&to=2026-10-03"),
    )
    .await;
    let totals = &kpis.data()["totals"];
    let p = "2026-10-01 to 2026-10-03";
    for (label, field) in [
        ("spend", "spend"),
        ("results", "conversions"),
        ("impressions", "impressions"),
        ("clicks", "clicks"),
        ("CPA", "cpa"),
        ("CTR", "ctr"),
    ] {
        let f = figure(reply, &format!("{label} {p}"));
        assert!(
            (number(&f["value"]) - number(&totals[field])).abs() < 1e-9,
            "{label}: {f} vs {}",
            totals[field]
        );
    }
    assert_eq!(figure(reply, &format!("spend {p}"))["unit"], json!("BRL"));
    assert_eq!(figure(reply, &format!("CTR {p}"))["unit"], json!("percent"));
}

async fn conversations_remember_in_order_and_summarize_beyond_ten_turns(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let first = chat(&app, &owner, json!({"message": QUESTION})).await;
    let id = first.data()["conversation_id"].as_str().unwrap().to_owned();
    for i in 2..=10 {
        let r = chat(
            &app,
            &owner,
            json!({"conversation_id": id, "message": format!("question {i}: CTR yesterday?")}),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        assert_eq!(r.data()["conversation_id"], json!(id));
    }
    let list = get(&app, &owner, "/api/v1/conversations").await;
    let convs = list.data().as_array().unwrap();
    assert_eq!(convs.len(), 1, "one conversation: {}", list.body);
    assert_eq!(convs[0]["title"], json!(QUESTION));
    assert_eq!(convs[0]["summary"], Value::Null, "ten turns fit in memory");

    let r = chat(
        &app,
        &owner,
        json!({"conversation_id": id, "message": "question 11: top campaigns?"}),
    )
    .await;
    assert_eq!(r.data()["intent"], json!("top_campaigns"), "{}", r.body);
    let list = get(&app, &owner, "/api/v1/conversations").await;
    let summary = list.data()[0]["summary"].as_str().expect("a summary");
    assert!(
        summary.contains(QUESTION),
        "the oldest turn is folded: {summary}"
    );

    let msgs = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages?limit=200"),
    )
    .await;
    let msgs = msgs.data().as_array().unwrap();
    assert_eq!(msgs.len(), 22, "every message is kept");
    for (i, m) in msgs.iter().enumerate() {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        assert_eq!(m["role"], json!(role), "{m}");
    }
    assert_eq!(msgs[0]["content"], json!(QUESTION));
    assert_eq!(msgs[1]["mode"], json!("builtin"));
    assert_eq!(msgs[1]["intent"], json!("kpis"));
    assert!(!msgs[1]["figures"].as_array().unwrap().is_empty());
    assert_eq!(msgs[1]["prompt_tokens"], json!(0));
    assert_eq!(msgs[0]["mode"], Value::Null);
    assert!(
        msgs[20]["content"]
            .as_str()
            .unwrap()
            .starts_with("question 11")
    );
    // Pages follow on in order.
    let page = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages?limit=20"),
    )
    .await;
    let cursor = page.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages?limit=20&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest.data()[0]["id"], msgs[20]["id"]);
}

async fn conversations_are_the_tenants_alone(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let r = chat(&app, &owner, json!({"message": QUESTION})).await;
    let id = r.data()["conversation_id"].as_str().unwrap().to_owned();
    let answer_id = r.data()["message_id"].as_str().unwrap().to_owned();

    let other = register(&app, "Globex").await.cred();
    let list = get(&app, &other, "/api/v1/conversations").await;
    assert_eq!(list.data(), &json!([]));
    get(
        &app,
        &other,
        &format!("/api/v1/conversations/{id}/messages"),
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    call(
        &app,
        Method::DELETE,
        &format!("/api/v1/conversations/{id}"),
        &other,
        None,
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    call(
        &app,
        Method::POST,
        &format!("/api/v1/conversations/{id}/messages/{answer_id}/flag"),
        &other,
        Some(json!({"reason": "nope"})),
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    // Continuing another tenant's conversation is a 404 too (after the
    // other tenant has an account, so the account check cannot answer first).
    new_account(&app, &other, None).await;
    chat(
        &app,
        &other,
        json!({"conversation_id": id, "message": "spend?"}),
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    // The owner still sees it untouched.
    let msgs = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages"),
    )
    .await;
    assert_eq!(msgs.data().as_array().unwrap().len(), 2);
}

async fn a_conversation_can_be_deleted_and_an_answer_flagged(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let r = chat(&app, &owner, json!({"message": QUESTION})).await;
    let id = r.data()["conversation_id"].as_str().unwrap().to_owned();
    let answer_id = r.data()["message_id"].as_str().unwrap().to_owned();
    let flag = |message: &str| format!("/api/v1/conversations/{id}/messages/{message}/flag");

    let flagged = call(
        &app,
        Method::POST,
        &flag(&answer_id),
        &owner,
        Some(json!({"reason": "spend looks too low"})),
    )
    .await;
    assert_eq!(flagged.status.as_u16(), 200, "{}", flagged.body);
    assert_eq!(flagged.data()["flagged"], json!(true));
    let msgs = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages"),
    )
    .await;
    let msgs = msgs.data().as_array().unwrap();
    assert_eq!(msgs[1]["flag_reason"], json!("spend looks too low"));
    assert_eq!(msgs[0]["flagged"], json!(false));
    let question_id = msgs[0]["id"].as_str().unwrap();
    call(
        &app,
        Method::POST,
        &flag(question_id),
        &owner,
        Some(json!({"reason": "x"})),
    )
    .await
    .assert_error(404, "MESSAGE_NOT_FOUND");
    call(
        &app,
        Method::POST,
        &flag(&answer_id),
        &owner,
        Some(json!({"reason": "  "})),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");

    let d = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/conversations/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(d.status.as_u16(), 204, "{}", d.body);
    get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages"),
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    let list = get(&app, &owner, "/api/v1/conversations").await;
    assert_eq!(list.data(), &json!([]));
}

async fn flagged_answers_are_listed_for_review_across_conversations_newest_first(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let mut flagged = Vec::new();
    for (question, reason) in [(QUESTION, "spend looks too low"), ("cpa?", "wrong CPA")] {
        let r = chat(&app, &owner, json!({"message": question})).await;
        let (id, answer) = (
            r.data()["conversation_id"].as_str().unwrap().to_owned(),
            r.data()["message_id"].as_str().unwrap().to_owned(),
        );
        let f = call(
            &app,
            Method::POST,
            &format!("/api/v1/conversations/{id}/messages/{answer}/flag"),
            &owner,
            Some(json!({"reason": reason})),
        )
        .await;
        assert_eq!(f.status.as_u16(), 200, "{}", f.body);
        flagged.push((id, answer));
    }
    // An answer nobody flagged is not listed.
    chat(&app, &owner, json!({"message": "roas?"})).await;

    let review = get(&app, &owner, "/api/v1/assistant/flagged-answers").await;
    assert_eq!(review.status.as_u16(), 200, "{}", review.body);
    let items = review.data().as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|m| {
            (
                m["conversation_id"].as_str().unwrap(),
                m["id"].as_str().unwrap(),
                m["flag_reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (flagged[1].0.as_str(), flagged[1].1.as_str(), "wrong CPA"),
            (
                flagged[0].0.as_str(),
                flagged[0].1.as_str(),
                "spend looks too low"
            ),
        ],
        "newest first, across conversations"
    );
    let paged = get(&app, &owner, "/api/v1/assistant/flagged-answers?limit=1").await;
    assert_eq!(paged.data().as_array().unwrap().len(), 1);
    // Another organization reviews only its own.
    let other = register(&app, "Globex").await.cred();
    let theirs = get(&app, &other, "/api/v1/assistant/flagged-answers").await;
    assert_eq!(theirs.data(), &json!([]));
}

async fn bad_chat_input_is_refused_with_422(t: TestApp) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await.cred();
    chat(&app, &owner, json!({"message": "spend?"}))
        .await
        .assert_error(422, "NO_AD_ACCOUNT");
    new_account(&app, &owner, None).await;
    for body in [
        json!({"message": ""}),
        json!({"message": "   "}),
        json!({}),
        json!({"message": "a".repeat(4001)}),
    ] {
        let r = chat(&app, &owner, body).await;
        r.assert_error(422, "VALIDATION_FAILED");
        assert!(
            r.body["details"]["fields"]["message"].is_string(),
            "{}",
            r.body
        );
    }
    let ok = chat(&app, &owner, json!({"message": "a".repeat(4000)})).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
    chat(
        &app,
        &owner,
        json!({"conversation_id": uuid::Uuid::now_v7(), "message": "spend?"}),
    )
    .await
    .assert_error(404, "CONVERSATION_NOT_FOUND");
    let list = get(&app, &owner, "/api/v1/conversations").await;
    assert_eq!(
        list.data().as_array().unwrap().len(),
        1,
        "refused questions store nothing"
    );
}

// ------------------------------------------------------------------ with a model

/// A chat completion whose message content is `content`.
pub(crate) fn completion(content: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_764_970_800,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content.to_string(), "refusal": null},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 400, "completion_tokens": 50, "total_tokens": 450}
    }))
}

async fn app_with_model(backend: Backend, server: &MockServer) -> (TestApp, Cred) {
    let t = TestApp::with_llm(backend, &format!("{}/v1", server.uri())).await;
    let (owner, _) = imported(&t).await;
    (t, owner)
}

async fn a_model_that_lies_twice_is_replaced_by_the_unverified_answer_with_the_real_figures(
    backend: Backend,
) {
    let server = MockServer::start().await;
    let lie = json!({
        "answer": "You spent R$ 55.00 from 2026-10-01 to 2026-10-03.",
        "figures": [{"label": "spend 2026-10-01 to 2026-10-03", "value": 55.00, "unit": "BRL"}]
    });
    let (t, owner, r) = asked_a_model_that_says(backend, &server, &lie, 2).await;
    let app = t.service().await;
    let reply = r.data();
    assert_eq!(
        (&reply["mode"], &reply["verified"]),
        (&json!("llm"), &json!(false)),
        "{reply}"
    );
    assert_eq!(reply["verified"], json!(false));
    let answer = reply["answer"].as_str().unwrap();
    assert!(!answer.contains("55"), "the lie is not shown: {answer}");
    assert!(
        answer.contains("spend 2026-10-01 to 2026-10-03: 40 BRL"),
        "the real figures are: {answer}"
    );
    assert_eq!(
        reply["usage"]["prompt_tokens"],
        json!(800),
        "both calls counted"
    );
    let id = reply["conversation_id"].as_str().unwrap();
    let msgs = get(
        &app,
        &owner,
        &format!("/api/v1/conversations/{id}/messages"),
    )
    .await;
    let stored = &msgs.data()[1];
    assert_eq!(
        (&stored["mode"], &stored["verified"]),
        (&json!("llm"), &json!(false))
    );
    assert_eq!(stored["prompt_tokens"], json!(800));
    assert_eq!(stored["completion_tokens"], json!(100));
    // The second request carried the problems back to the model.
    let requests = server.received_requests().await.unwrap();
    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let last = second["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(last["content"].as_str().unwrap().contains("55"), "{last}");
}

async fn a_model_that_answers_with_the_data_is_shown_in_llm_mode(backend: Backend) {
    let server = MockServer::start().await;
    let truth = json!({
        "answer": "You spent R$ 40.00 from 2026-10-01 to 2026-10-03, with 4 results.",
        "figures": [
            {"label": "spend 2026-10-01 to 2026-10-03", "value": 40.00, "unit": "BRL"},
            {"label": "results 2026-10-01 to 2026-10-03", "value": 4, "unit": "count"}
        ]
    });
    let (_t, _owner, r) = asked_a_model_that_says(backend, &server, &truth, 1).await;
    let reply = r.data();
    assert_eq!(reply["mode"], json!("llm"), "{reply}");
    assert_eq!(reply["verified"], json!(true));
    assert_eq!(reply["answer"], truth["answer"]);
    assert_eq!(reply["usage"]["completion_tokens"], json!(50));
    // The prompt carried the data table, the schema and nothing else's.
    let requests = server.received_requests().await.unwrap();
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let text = sent.to_string();
    assert!(
        text.contains("spend 2026-10-01 to 2026-10-03 | 40"),
        "{text}"
    );
    assert!(
        sent["response_format"].is_object(),
        "structured output asked: {sent}"
    );
}

/// An app whose model (at `server`) replies `reply` to each of `calls`
/// requests, asked [`QUESTION`] once. Returns (app, owner, the reply).
async fn asked_a_model_that_says(
    backend: Backend,
    server: &MockServer,
    reply: &Value,
    calls: u64,
) -> (TestApp, Cred, adscale_tests::Reply) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(reply))
        .expect(calls)
        .mount(server)
        .await;
    let (t, owner) = app_with_model(backend, server).await;
    let r = {
        let app = t.service().await;
        chat(&app, &owner, json!({"message": QUESTION})).await
    };
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    (t, owner, r)
}

async fn built_in_chat_spends_no_tokens_and_a_bad_usage_range_is_refused(t: TestApp) {
    let (owner, _) = imported(&t).await;
    let app = t.service().await;
    let r = chat(&app, &owner, json!({"message": QUESTION})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let usage = get(&app, &owner, "/api/v1/assistant/usage").await;
    assert_eq!(usage.status.as_u16(), 200, "{}", usage.body);
    let u = usage.data();
    assert_eq!(
        u["total"],
        json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    );
    assert_eq!(u["by_source"][0]["source"], json!("chat"));
    assert_eq!(u["by_source"][0]["calls"], json!(0));
    // The last 30 UTC days, today included, every day listed.
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(u["to"], json!(today.to_string()));
    assert_eq!(u["by_day"].as_array().unwrap().len(), 30);

    for (query, field) in [
        ("from=2026-10-05&to=2026-10-01", "from"),
        ("from=2025-01-01&to=2026-10-01", "to"),
        ("from=yesterday", "from"),
    ] {
        let bad = get(&app, &owner, &format!("/api/v1/assistant/usage?{query}")).await;
        bad.assert_error(422, "VALIDATION_FAILED");
        assert!(
            bad.body["details"]["fields"].get(field).is_some(),
            "{query}: {}",
            bad.body
        );
    }
}

async fn usage_counts_the_models_tokens_for_its_tenant_only_and_keeps_them_after_a_delete(
    backend: Backend,
) {
    let server = MockServer::start().await;
    let truth = json!({
        "answer": "You spent R$ 40.00 from 2026-10-01 to 2026-10-03.",
        "figures": [
            {"label": "spend 2026-10-01 to 2026-10-03", "value": 40.00, "unit": "BRL"}
        ]
    });
    let (t, owner, r) = asked_a_model_that_says(backend, &server, &truth, 1).await;
    assert_eq!(r.data()["mode"], json!("llm"), "{}", r.body);
    let app = t.service().await;

    let usage = get(&app, &owner, "/api/v1/assistant/usage").await;
    assert_eq!(usage.status.as_u16(), 200, "{}", usage.body);
    let u = usage.data();
    // The fixture's `usage`: 400 prompt, 50 completion tokens.
    let spent = json!({"prompt_tokens": 400, "completion_tokens": 50, "total_tokens": 450});
    assert_eq!(u["total"], spent);
    assert_eq!(
        u["by_source"],
        json!([
            {"source": "chat", "prompt_tokens": 400, "completion_tokens": 50,
             "total_tokens": 450, "calls": 1},
            {"source": "insights", "prompt_tokens": 0, "completion_tokens": 0,
             "total_tokens": 0, "calls": 0}
        ])
    );
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let day = u["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == json!(today))
        .unwrap()
        .clone();
    assert_eq!(day["total_tokens"], json!(450));

    let other = register(&app, "Other Org").await;
    let theirs = get(&app, &other.cred(), "/api/v1/assistant/usage").await;
    assert_eq!(theirs.data()["total"]["total_tokens"], json!(0));

    // Tokens spent stay spent: deleting the conversation keeps them counted.
    let id = r.data()["conversation_id"].as_str().unwrap();
    let d = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/conversations/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(d.status.as_u16(), 204, "{}", d.body);
    let after = get(&app, &owner, "/api/v1/assistant/usage").await;
    assert_eq!(after.data()["total"], spent);
}
