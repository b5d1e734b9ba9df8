//! Reports end to end on both backends: imported daily rows become gold; a
//! requested report is queued, rendered by the report job and downloaded
//! with its content type and file name; its numbers are the KPI API's; it is
//! the tenant's alone and its file goes away after the retention.

use std::io::Cursor;
use std::sync::Arc;

use actix_web::http::Method;
use adscale_tests::{Cred, TestApp, call, get, on_both_backends, register};
use application::analysis::GoldReader;
use application::reports::{BuildReport, ReportJobPorts, ReportJobSettings, RunReports};
use calamine::{Data, Reader, Xlsx};
use domain::platform::Clock;
use infrastructure::notify::testing::SmtpSink;
use infrastructure::reports::DocumentRenderer;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::alerts::deliverer;
use crate::ingestion::{import, named_account, new_account};
use crate::suggestions::CSV;

on_both_backends!(
    an_organization_report_sums_the_accounts_of_one_currency_and_is_scheduled_in_its_zone,
    a_report_whose_worker_keeps_stopping_is_given_up,
    the_executive_report_lists_the_periods_generated_insights,
    a_weekly_schedule_queues_its_report_on_monday_morning_once_and_announces_it,
    a_daily_xlsx_report_is_queued_rendered_and_downloaded_with_the_kpi_apis_numbers,
    a_csv_report_for_pt_br_uses_decimal_commas_and_semicolons_and_a_pdf_is_a_pdf,
    reports_are_the_tenants_alone_bad_requests_are_named_and_files_expire
);

/// An app with the fixture's Oct 1–3 rows imported. Returns (app, owner
/// cred, account id).
async fn imported(t: &TestApp) -> (Cred, String) {
    let app = t.service().await;
    let owner = register(&app, "Acme").await;
    let account = new_account(&app, &owner.cred(), None).await;
    let r = import(&app, &owner.cred(), &account, CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    (owner.cred(), account)
}

async fn request<S, B>(app: &S, cred: &Cred, body: Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let r = call(app, Method::POST, "/api/v1/reports", cred, Some(body)).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    let id = r.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/reports/{id}").as_str())
    );
    r.data().clone()
}

async fn a_daily_xlsx_report_is_queued_rendered_and_downloaded_with_the_kpi_apis_numbers(
    t: TestApp,
) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let queued = request(
        &app,
        &owner,
        json!({"kind": "daily", "ad_account_id": account, "date": "2026-10-01", "format": "xlsx"}),
    )
    .await;
    assert_eq!(queued["status"], json!("QUEUED"));
    assert_eq!(
        queued["period"],
        json!({"from": "2026-10-01", "to": "2026-10-01"})
    );
    let id = queued["id"].as_str().unwrap();
    let download = format!("/api/v1/reports/{id}/download");
    get(&app, &owner, &download)
        .await
        .assert_error(409, "REPORT_NOT_READY");

    assert_eq!(t.reports.run_once().await.unwrap(), 1);
    assert_eq!(t.reports.run_once().await.unwrap(), 0, "rendered once");
    let done = get(&app, &owner, &format!("/api/v1/reports/{id}")).await;
    let done = done.data();
    assert_eq!(done["status"], json!("DONE"), "{done}");
    let name = done["file_name"].as_str().unwrap();
    assert!(
        name.starts_with("adscale-daily-") && name.ends_with("-2026-10-01.xlsx"),
        "{name}"
    );
    assert_eq!(done["download_url"], json!(download));
    assert!(done["expires_at"].is_string() && done["size_bytes"].as_i64() > Some(1000));

    let file = get(&app, &owner, &download).await;
    assert_eq!(file.status.as_u16(), 200);
    assert_eq!(
        file.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(
        file.header("content-disposition"),
        Some(format!("attachment; filename=\"{name}\"").as_str())
    );
    // The summary's figures are the KPI API's for the same day.
    let kpis = get(
        &app,
        &owner,
        &format!("/api/v1/ad-accounts/{account}/kpis?from=2026-10-01&to=2026-10-01"),
    )
    .await;
    let totals = &kpis.data()["totals"];
    let mut book = Xlsx::new(Cursor::new(file.raw.to_vec())).unwrap();
    let summary = book.worksheet_range("Summary").unwrap();
    let figure = |label: &str| -> Data {
        summary
            .rows()
            .find(|r| r.first() == Some(&Data::String(label.to_owned())))
            .and_then(|r| r.get(1).cloned())
            .unwrap_or_else(|| panic!("no {label} in the summary"))
    };
    let money = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!(figure("Spend"), Data::Float(money(&totals["spend"])));
    assert_eq!(figure("CPA"), Data::Float(money(&totals["cpa"])));
    assert_eq!(
        figure("Results"),
        Data::Float(totals["conversions"].as_f64().unwrap())
    );
    assert_eq!(totals["spend"], json!("20.00"), "two campaigns spent 10.00");

    let list = get(&app, &owner, "/api/v1/reports").await;
    assert_eq!(list.data()[0]["id"], json!(id));
}

async fn a_csv_report_for_pt_br_uses_decimal_commas_and_semicolons_and_a_pdf_is_a_pdf(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let csv = request(
        &app,
        &owner,
        json!({"kind": "executive", "ad_account_id": account, "from": "2026-10-01", "to": "2026-10-03", "format": "csv", "decimal_separator": "comma"}),
    )
    .await;
    let pdf = request(
        &app,
        &owner,
        json!({"kind": "weekly", "ad_account_id": account, "week": "2026-W40", "format": "pdf"}),
    )
    .await;
    assert_eq!(t.reports.run_once().await.unwrap(), 2);

    let file = get(
        &app,
        &owner,
        &format!("/api/v1/reports/{}/download", csv["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(file.raw.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(file.raw[3..].to_vec()).unwrap();
    // Oct 1–3: 40.00 spent; fields split by `;`, decimals by `,`.
    assert!(text.contains("Spend;40,00"), "{text}");
    assert!(!text.contains("40.00"), "{text}");

    let file = get(
        &app,
        &owner,
        &format!("/api/v1/reports/{}/download", pdf["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(file.header("content-type"), Some("application/pdf"));
    assert!(file.raw.starts_with(b"%PDF-"));
    let done = get(
        &app,
        &owner,
        &format!("/api/v1/reports/{}", pdf["id"].as_str().unwrap()),
    )
    .await;
    // ISO week 40 of 2026 is Sep 28 – Oct 4.
    assert_eq!(
        done.data()["period"],
        json!({"from": "2026-09-28", "to": "2026-10-04"})
    );
}

/// The report job 31 days from now: past the default 30-day retention.
struct MonthLater;

impl Clock for MonthLater {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::days(31)
    }
    fn today_in(&self, _tz: &str) -> Date {
        self.now().date()
    }
}

async fn reports_are_the_tenants_alone_bad_requests_are_named_and_files_expire(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let report = request(
        &app,
        &owner,
        json!({"kind": "daily", "ad_account_id": account, "date": "2026-10-02", "format": "csv"}),
    )
    .await;
    let id = report["id"].as_str().unwrap();
    t.reports.run_once().await.unwrap();

    let stranger = register(&app, "Other").await.cred();
    for path in [
        format!("/api/v1/reports/{id}"),
        format!("/api/v1/reports/{id}/download"),
    ] {
        get(&app, &stranger, &path)
            .await
            .assert_error(404, "REPORT_NOT_FOUND");
    }
    assert_eq!(
        get(&app, &stranger, "/api/v1/reports").await.data(),
        &json!([])
    );
    call(
        &app,
        Method::POST,
        "/api/v1/reports",
        &stranger,
        Some(json!({"kind": "daily", "ad_account_id": account, "format": "csv"})),
    )
    .await
    .assert_error(404, "AD_ACCOUNT_NOT_FOUND");

    let bad = call(
        &app,
        Method::POST,
        "/api/v1/reports",
        &owner,
        Some(json!({"kind": "monthly", "format": "docx", "decimal_separator": "dot"})),
    )
    .await;
    bad.assert_error(422, "VALIDATION_FAILED");
    let fields: Vec<&String> = bad.body["details"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(fields, ["decimal_separator", "format", "kind"]);
    let future = call(
        &app,
        Method::POST,
        "/api/v1/reports",
        &owner,
        Some(json!({"kind": "daily", "ad_account_id": account, "date": "2999-01-01", "format": "pdf"})),
    )
    .await;
    future.assert_error(422, "VALIDATION_FAILED");
    assert!(future.body["details"]["fields"]["period"].is_string());
    assert_eq!(
        get(&app, &owner, "/api/v1/reports")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing queued for refused requests"
    );

    // After the retention the file is gone, the report stays listed.
    let db = t.adapters.db.clone();
    let later: Arc<dyn Clock> = Arc::new(MonthLater);
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        later.clone(),
    );
    let job = job_at(db, later, gold);
    assert_eq!(job.run_once().await.unwrap(), 0);
    let expired = get(&app, &owner, &format!("/api/v1/reports/{id}")).await;
    assert_eq!(expired.data()["status"], json!("EXPIRED"));
    assert!(expired.data().get("download_url").is_none());
    get(&app, &owner, &format!("/api/v1/reports/{id}/download"))
        .await
        .assert_error(409, "REPORT_EXPIRED");
}

/// The report job over `db` with its own clock.
fn job_at(db: Arc<infrastructure::db::Db>, clock: Arc<dyn Clock>, gold: GoldReader) -> RunReports {
    RunReports::new(
        ReportJobPorts {
            reports: db.clone(),
            schedules: db,
            build: Arc::new(BuildReport::new(gold)),
            renderer: Arc::new(DocumentRenderer::new()),
            clock,
        },
        ReportJobSettings {
            public_base_url: "https://adscale.example.com".to_owned(),
            ..ReportJobSettings::default()
        },
    )
}

/// Monday Oct 5, 2026, 09:00 in the account's zone (12:00 UTC).
pub(crate) struct MondayMorning;

impl Clock for MondayMorning {
    fn now(&self) -> OffsetDateTime {
        time::macros::datetime!(2026-10-05 12:00 UTC)
    }
    fn today_in(&self, _tz: &str) -> Date {
        time::macros::date!(2026 - 10 - 05)
    }
    fn local_now_in(&self, _tz: &str) -> time::PrimitiveDateTime {
        time::macros::datetime!(2026-10-05 9:00)
    }
}

async fn a_weekly_schedule_queues_its_report_on_monday_morning_once_and_announces_it(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let r = call(
        &app,
        Method::POST,
        "/api/v1/report-schedules",
        &owner,
        Some(json!({"ad_account_id": account, "kind": "weekly", "format": "xlsx"})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let schedule = r.data().clone();
    assert_eq!(
        (
            &schedule["hour"],
            &schedule["enabled"],
            &schedule["decimal_separator"]
        ),
        (&json!(8), &json!(true), &json!("point"))
    );
    let id = schedule["id"].as_str().unwrap();

    // An e-mail channel: the report arrives attached.
    let smtp = SmtpSink::start(None).await;
    let r = call(
        &app,
        Method::POST,
        "/api/v1/notification-channels",
        &owner,
        Some(
            json!({"name": "Reports mail", "kind": "email", "config": {"to": ["ana@client.test"]}}),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);

    let db = t.adapters.db.clone();
    let monday: Arc<dyn Clock> = Arc::new(MondayMorning);
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        monday.clone(),
    );
    let job = job_at(db.clone(), monday.clone(), gold.clone());
    assert_eq!(job.run_once().await.unwrap(), 1, "queued and rendered");
    // A second worker (its own minute throttle) finds the day taken.
    let other = job_at(db, monday, gold);
    assert_eq!(other.run_once().await.unwrap(), 0, "once a day");

    let reports = get(&app, &owner, "/api/v1/reports").await;
    let reports = reports.data().as_array().unwrap().clone();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report["status"], json!("DONE"), "{report}");
    assert_eq!(report["requested_by"], json!(format!("schedule:{id}")));
    // The week before Monday Oct 5: Sep 28 – Oct 4.
    assert_eq!(
        report["period"],
        json!({"from": "2026-09-28", "to": "2026-10-04"})
    );
    let alerts = get(&app, &owner, "/api/v1/alerts?kind=report.ready").await;
    let alerts = alerts.data().as_array().unwrap().clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Weekly report ready: "),
        "{alerts:?}"
    );
    assert_eq!(
        alerts[0]["data"]["download_url"],
        json!(format!(
            "https://adscale.example.com/api/v1/reports/{}/download",
            report["id"].as_str().unwrap()
        ))
    );
    let deliver = deliverer(&t, Some(&smtp)).with_attachments(t.adapters.db.clone());
    assert_eq!(deliver.run_once().await.unwrap().delivered, 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let mail = mails[0].body();
    let file = report["file_name"].as_str().unwrap();
    // The attachment's header, unfolded (long names use RFC 2231 `filename*0=`).
    let part = mail
        .replace("\n ", " ")
        .split("Content-Disposition: attachment;")
        .nth(1)
        .map(|rest| rest.lines().next().unwrap_or_default().to_owned());
    assert!(part.is_some_and(|p| p.contains(file)), "{mail}");
    assert!(mail.contains("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    let listed = get(&app, &owner, &format!("/api/v1/report-schedules/{id}")).await;
    assert_eq!(listed.data()["last_run_on"], json!("2026-10-05"));

    // Only admins set schedules up; another organization sees none of it.
    let viewer = call(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &owner,
        Some(json!({"name": "viewer", "role": "viewer"})),
    )
    .await;
    let viewer = Cred::ApiKey(viewer.data()["key"].as_str().unwrap().to_owned());
    call(
        &app,
        Method::POST,
        "/api/v1/report-schedules",
        &viewer,
        Some(json!({"ad_account_id": account, "kind": "daily", "format": "pdf"})),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    let bad = call(
        &app,
        Method::POST,
        "/api/v1/report-schedules",
        &owner,
        Some(json!({"ad_account_id": account, "kind": "hourly", "format": "pdf", "hour": 24})),
    )
    .await;
    bad.assert_error(422, "VALIDATION_FAILED");
    let fields: Vec<&String> = bad.body["details"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(fields, ["hour", "kind"]);
    let stranger = register(&app, "Other").await.cred();
    let path = format!("/api/v1/report-schedules/{id}");
    get(&app, &stranger, &path)
        .await
        .assert_error(404, "REPORT_SCHEDULE_NOT_FOUND");
    call(&app, Method::DELETE, &path, &stranger, None)
        .await
        .assert_error(404, "REPORT_SCHEDULE_NOT_FOUND");
    let gone = call(&app, Method::DELETE, &path, &owner, None).await;
    assert_eq!(gone.status.as_u16(), 204);
    get(&app, &owner, &path)
        .await
        .assert_error(404, "REPORT_SCHEDULE_NOT_FOUND");
}

async fn the_executive_report_lists_the_periods_generated_insights(t: TestApp) {
    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    crate::insights::requested(
        &app,
        &owner,
        &format!("week=2026-W40&ad_account_id={account}"),
    )
    .await;
    assert_eq!(t.insights.run_once().await.unwrap().jobs, 1);
    let listed = get(&app, &owner, "/api/v1/insights").await;
    let headline = listed.data()[0]["headline"].as_str().unwrap().to_owned();
    let report = request(
        &app,
        &owner,
        json!({"kind": "executive", "ad_account_id": account, "from": "2026-09-28", "to": "2026-10-04", "format": "csv"}),
    )
    .await;
    assert_eq!(t.reports.run_once().await.unwrap(), 1);
    let file = get(
        &app,
        &owner,
        &format!(
            "/api/v1/reports/{}/download",
            report["id"].as_str().unwrap()
        ),
    )
    .await;
    let text = String::from_utf8(file.raw[3..].to_vec()).unwrap();
    let section = text
        .split("Generated insights")
        .nth(1)
        .unwrap_or_else(|| panic!("no insights section in {text}"));
    assert!(
        section.contains("2026-09-28") && section.contains(&headline),
        "{section}"
    );
}

/// CSV text of a downloaded report (after its BOM).
async fn csv_text<S, B>(app: &S, cred: &Cred, report: &Value) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let path = format!(
        "/api/v1/reports/{}/download",
        report["id"].as_str().unwrap()
    );
    let file = get(app, cred, &path).await;
    assert_eq!(file.status.as_u16(), 200, "{}", file.body);
    String::from_utf8(file.raw[3..].to_vec()).unwrap()
}

async fn an_organization_report_sums_the_accounts_of_one_currency_and_is_scheduled_in_its_zone(
    t: TestApp,
) {
    let (owner, _main) = imported(&t).await;
    let app = t.service().await;
    let second = named_account(&app, &owner, "Second", "BRL", None).await;
    let r = import(&app, &owner, &second, CSV.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.body);
    named_account(&app, &owner, "Dollars", "USD", None).await;
    let day = json!({"kind": "daily", "date": "2026-10-01", "format": "csv"});

    // Three accounts in two currencies: which ones to add up must be said.
    let mixed = call(
        &app,
        Method::POST,
        "/api/v1/reports",
        &owner,
        Some(day.clone()),
    )
    .await;
    mixed.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(
        mixed.body["details"]["fields"]["currency"],
        json!(
            "the organization's ad accounts report in BRL, USD; amounts in different \
             currencies are not added up: give one of them"
        )
    );
    let mut eur = day.clone();
    eur["currency"] = json!("EUR");
    let eur = call(&app, Method::POST, "/api/v1/reports", &owner, Some(eur)).await;
    eur.assert_error(422, "VALIDATION_FAILED");
    assert!(eur.body["details"]["fields"]["currency"].is_string());

    let mut brl = day.clone();
    brl["currency"] = json!("brl");
    let queued = request(&app, &owner, brl).await;
    assert_eq!(
        (
            &queued["scope"],
            &queued["currency"],
            queued.get("ad_account_id")
        ),
        (&json!("organization"), &json!("BRL"), None)
    );
    assert_eq!(t.reports.run_once().await.unwrap(), 1);
    let done = get(
        &app,
        &owner,
        &format!("/api/v1/reports/{}", queued["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(done.data()["status"], json!("DONE"), "{}", done.body);
    assert_eq!(
        done.data()["file_name"],
        json!("adscale-daily-all-ad-accounts-brl-2026-10-01.csv")
    );
    let text = csv_text(&app, &owner, done.data()).await;
    // Each BRL account spent 20.00 on Oct 1 (the KPI API's figure per account).
    assert!(text.contains("Spend,40.00"), "{text}");
    assert!(
        text.contains("All ad accounts (BRL) · 2026-10-01"),
        "{text}"
    );
    assert!(text.contains("Ad accounts"), "{text}");
    for line in ["Main,20.00,2,10.00", "Second,20.00,2,10.00"] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(text.contains("Second · Healthy"), "{text}");
    assert!(!text.contains("Dollars"), "{text}");

    // Another organization without accounts is told so; it never sees ours.
    let stranger = register(&app, "Empty").await.cred();
    call(&app, Method::POST, "/api/v1/reports", &stranger, Some(day))
        .await
        .assert_error(422, "NO_AD_ACCOUNT");
    get(
        &app,
        &stranger,
        &format!("/api/v1/reports/{}", queued["id"].as_str().unwrap()),
    )
    .await
    .assert_error(404, "REPORT_NOT_FOUND");

    // An organization schedule runs at the organization's local hour.
    let r = call(
        &app,
        Method::POST,
        "/api/v1/report-schedules",
        &owner,
        Some(json!({"kind": "weekly", "currency": "BRL", "format": "csv"})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(
        (&r.data()["scope"], &r.data()["currency"]),
        (&json!("organization"), &json!("BRL"))
    );
    // 09:00 on Monday in Tokyo, 03:00 elsewhere: the organization's zone
    // (UTC until changed) decides, not its accounts' (São Paulo).
    let db = t.adapters.db.clone();
    let monday: Arc<dyn Clock> = Arc::new(MondayNineIn("Asia/Tokyo"));
    let gold = GoldReader::new(
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        monday.clone(),
    );
    let job = || job_at(db.clone(), monday.clone(), gold.clone());
    assert_eq!(job().run_once().await.unwrap(), 0, "03:00 in UTC");
    let r = call(
        &app,
        Method::PATCH,
        "/api/v1/organization",
        &owner,
        Some(json!({"timezone": "Asia/Tokyo"})),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(job().run_once().await.unwrap(), 1, "09:00 in Tokyo");
    let reports = get(&app, &owner, "/api/v1/reports").await;
    let weekly = &reports.data()[0];
    assert_eq!(
        (&weekly["scope"], &weekly["status"], &weekly["period"]),
        (
            &json!("organization"),
            &json!("DONE"),
            &json!({"from": "2026-09-28", "to": "2026-10-04"})
        ),
        "{weekly}"
    );
    let text = csv_text(&app, &owner, weekly).await;
    // Oct 1–3 in week 40: 40.00 per account.
    assert!(text.contains("Spend,80.00"), "{text}");
}

/// Monday Oct 5, 2026: 09:00 in one time zone, 03:00 in every other.
struct MondayNineIn(&'static str);

impl Clock for MondayNineIn {
    fn now(&self) -> OffsetDateTime {
        MondayMorning.now()
    }
    fn today_in(&self, tz: &str) -> Date {
        MondayMorning.today_in(tz)
    }
    fn local_now_in(&self, tz: &str) -> time::PrimitiveDateTime {
        let hour = if tz == self.0 { 9 } else { 3 };
        time::macros::date!(2026 - 10 - 05)
            .with_hms(hour, 0, 0)
            .unwrap()
    }
}

async fn a_report_whose_worker_keeps_stopping_is_given_up(t: TestApp) {
    use domain::report_jobs::ReportRepository;

    let (owner, account) = imported(&t).await;
    let app = t.service().await;
    let queued = request(
        &app,
        &owner,
        json!({"kind": "daily", "ad_account_id": account, "date": "2026-10-01", "format": "pdf"}),
    )
    .await;
    // Three workers take it and stop before finishing (their lease is over
    // at once here).
    let db = t.adapters.db.clone();
    let now = OffsetDateTime::now_utc();
    for attempt in 1..=3 {
        let taken = db.take_due(now, now, 4).await.unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].attempts, attempt);
    }
    assert_eq!(t.reports.run_once().await.unwrap(), 1);
    let report = get(
        &app,
        &owner,
        &format!("/api/v1/reports/{}", queued["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(report.data()["status"], json!("FAILED"), "{}", report.body);
    assert_eq!(
        report.data()["failure"],
        json!("gave up after 3 tries: the worker stopped while making it")
    );
}
