//! Report routes: `POST /reports` (queues one, 202), `GET /reports`,
//! `GET /reports/{id}` and `GET /reports/{id}/download` (the file, with its
//! content type and name). Any member may request and read reports; the
//! report job renders them within seconds. `POST /report-schedules` (admins),
//! `GET /report-schedules`, `GET`/`DELETE /report-schedules/{id}`.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use domain::{ReportId, ReportScheduleId};

use super::page_request;
use crate::auth::Auth;
use crate::dto::reports::{
    ReportDto, ReportListQuery, ReportRequestDto, ReportScheduleDto, ReportScheduleRequest,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    E400, E401, E403, E404, E409, E413, E422, E429, E500, E503, ReportEnvelope, ReportListEnvelope,
    ReportScheduleEnvelope, ReportScheduleListEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// Request a report of one ad account, or (without `ad_account_id`) of the
/// organization's ad accounts summed: those of one currency (`currency`,
/// required when the accounts use several; 422 otherwise). Answers `202` at
/// once with the report `QUEUED` and `Location`; the report job renders it
/// (`DONE`, with `download_url`) or says why it could not (`FAILED`). The
/// period must be over (by yesterday in every covered account's time zone).
#[utoipa::path(
    post, path = "/api/v1/reports", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = ReportRequestDto,
    responses(
        (status = 202, description = "Queued", body = ReportEnvelope,
         headers(("Location" = String, description = "`/api/v1/reports/{id}`"))),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_report(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<ReportRequestDto>,
) -> Reply {
    let report = state
        .reports
        .request_report
        .execute(&actor, body.into_inner().into())
        .await?;
    let location = format!("/api/v1/reports/{}", report.id);
    env::accepted(state.version, &location, ReportDto::from(report))
}

/// The organization's reports, newest first.
#[utoipa::path(
    get, path = "/api/v1/reports", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(ReportListQuery),
    responses(
        (status = 200, description = "A page of reports", body = ReportListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_reports(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<ReportListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state.reports.list_reports.execute(&actor, page).await?;
    env::page(state.version, items, ReportDto::from)
}

/// One report and where it is.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The report", body = ReportEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_report(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ReportId::from_uuid(parse_uuid("id", &path)?);
    let report = state.reports.get_report.execute(&actor, id).await?;
    env::ok(state.version, ReportDto::from(report))
}

/// The rendered file (`text/csv`, the XLSX or the PDF media type), as an
/// attachment named like `adscale-weekly-acme-2026-11-16_2026-11-22.xlsx`.
/// `409 REPORT_NOT_READY` while queued, `REPORT_FAILED` when it failed,
/// `REPORT_EXPIRED` once the file was deleted after its retention.
#[utoipa::path(
    get, path = "/api/v1/reports/{id}/download", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"),
        )),
        E400, E401, E403, E404, E409, E429, E500, E503,
    )
)]
pub async fn download_report(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ReportId::from_uuid(parse_uuid("id", &path)?);
    let file = state.reports.download_report.execute(&actor, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file.file_name)],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(file.content))
}

/// Schedule an ad account's report, or the organization's (no
/// `ad_account_id`; `currency` as for a report) (admins and up): `daily`
/// every day, `weekly` on Mondays (the week before), `executive` on the 1st
/// (the month before), from `hour` (8 by default) in the account's time
/// zone, or the organization's for an organization report. Each one
/// rendered raises a `report.ready` alert with the download link on the
/// organization's notification channels.
#[utoipa::path(
    post, path = "/api/v1/report-schedules", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = ReportScheduleRequest,
    responses(
        (status = 201, description = "Created", body = ReportScheduleEnvelope,
         headers(("Location" = String, description = "`/api/v1/report-schedules/{id}`"))),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_schedule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<ReportScheduleRequest>,
) -> Reply {
    let schedule = state
        .reports
        .create_schedule
        .execute(&actor, body.into_inner().into())
        .await?;
    let location = format!("/api/v1/report-schedules/{}", schedule.id);
    env::created(state.version, &location, ReportScheduleDto::from(schedule))
}

/// The organization's report schedules, newest first.
#[utoipa::path(
    get, path = "/api/v1/report-schedules", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(ReportListQuery),
    responses(
        (status = 200, description = "A page of schedules", body = ReportScheduleListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_schedules(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<ReportListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state.reports.schedules.list(&actor, page).await?;
    env::page(state.version, items, ReportScheduleDto::from)
}

/// One report schedule.
#[utoipa::path(
    get, path = "/api/v1/report-schedules/{id}", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "The schedule", body = ReportScheduleEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_schedule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ReportScheduleId::from_uuid(parse_uuid("id", &path)?);
    let schedule = state.reports.schedules.get(&actor, id).await?;
    env::ok(state.version, ReportScheduleDto::from(schedule))
}

/// Delete a report schedule (admins and up); the reports it made stay.
#[utoipa::path(
    delete, path = "/api/v1/report-schedules/{id}", tag = "reports",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Schedule id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_schedule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = ReportScheduleId::from_uuid(parse_uuid("id", &path)?);
    state.reports.schedules.delete(&actor, id).await?;
    Ok(env::no_content())
}
