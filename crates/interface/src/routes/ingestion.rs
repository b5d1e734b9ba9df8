//! Ingestion routes: request a sync (202, runs as a job), read sync runs,
//! and import an Ads Manager CSV export (multipart).

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use application::ingestion::import::MAX_IMPORT_BYTES;
use domain::error::ValidationError;
use domain::{AdAccountId, SyncRunId};
use futures_util::StreamExt;

use super::page_request;
use crate::auth::Auth;
use crate::dto::ingestion::{
    AccountKpiQuery, AdAccountKpisDto, ImportAcceptedDto, ImportForm, SyncAcceptedDto, SyncRequest,
    SyncRunDto, SyncRunListQuery,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    AdAccountKpisEnvelope, E400, E401, E403, E404, E409, E413, E422, E422Import, E429, E500, E503,
    ImportAcceptedEnvelope, SyncAcceptedEnvelope, SyncRunEnvelope, SyncRunListEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// Queue a sync of the ad account (admins and up). Answers 202 with the run;
/// when a sync of the account is already queued or running, that run.
#[utoipa::path(
    post, path = "/api/v1/ad-accounts/{id}/sync", tag = "ingestion",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad account id")),
    request_body(content = SyncRequest, description = "Optional range; default the last 28 days"),
    responses(
        (status = 202, description = "Queued", body = SyncAcceptedEnvelope,
         headers(("Location" = String, description = "`/api/v1/sync-runs/{id}`"))),
        E400, E401, E403, E404, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn request_sync(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<SyncRequest>>,
) -> Reply {
    let id = AdAccountId::from_uuid(parse_uuid("id", &path)?);
    let b = body.map(web::Json::into_inner).unwrap_or_default();
    let run = state
        .ingestion
        .request_sync
        .execute(&actor, id, b.from.as_deref(), b.to.as_deref())
        .await?;
    let location = format!("/api/v1/sync-runs/{}", run.id);
    env::accepted(
        state.version,
        &location,
        SyncAcceptedDto {
            sync_run_id: run.id.into_uuid(),
            sync_run: run.into(),
        },
    )
}

/// Sync runs (the job history), newest first.
#[utoipa::path(
    get, path = "/api/v1/sync-runs", tag = "ingestion",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(SyncRunListQuery),
    responses(
        (status = 200, description = "A page of sync runs", body = SyncRunListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_sync_runs(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<SyncRunListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let account = q
        .ad_account_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_uuid("ad_account_id", s).map(AdAccountId::from_uuid))
        .transpose()?;
    let p = state
        .ingestion
        .list_sync_runs
        .execute(&actor, account, page)
        .await?;
    env::page(state.version, p, SyncRunDto::from)
}

/// One sync run: status, counts per entity, rows changed, API calls, duration, error.
#[utoipa::path(
    get, path = "/api/v1/sync-runs/{id}", tag = "ingestion",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Sync run id")),
    responses(
        (status = 200, description = "The sync run", body = SyncRunEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_sync_run(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = SyncRunId::from_uuid(parse_uuid("id", &path)?);
    let run = state.ingestion.get_sync_run.execute(&actor, id).await?;
    env::ok(state.version, SyncRunDto::from(run))
}

/// An ad account's KPIs over `from..=to` from gold, with a daily or weekly series.
#[utoipa::path(
    get, path = "/api/v1/ad-accounts/{id}/kpis", tag = "ad-accounts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Ad account id"), AccountKpiQuery),
    responses(
        (status = 200, description = "Totals and series", body = AdAccountKpisEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn ad_account_kpis(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountKpiQuery>,
) -> Reply {
    let id = AdAccountId::from_uuid(parse_uuid("id", &path)?);
    let k = state
        .ingestion
        .ad_account_kpis
        .execute(
            &actor,
            id,
            q.from.as_deref(),
            q.to.as_deref(),
            q.granularity.as_deref(),
        )
        .await?;
    env::ok(state.version, AdAccountKpisDto::from(k))
}

/// Reads the form: `ad_account_id` (text) and `file` (at most 20 MiB).
async fn read_form(mut form: Multipart) -> Result<(Option<String>, Option<Vec<u8>>), ApiError> {
    let (mut account, mut file) = (None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| ApiError::malformed_body(e.to_string()))?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::malformed_body(e.to_string()))?;
            if buf.len() + chunk.len() > MAX_IMPORT_BYTES {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "the file is larger than 20 MiB",
                )
                .detail("limit_bytes", MAX_IMPORT_BYTES));
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "ad_account_id" => account = Some(String::from_utf8_lossy(&buf).trim().to_owned()),
            "file" => file = Some(buf),
            _ => {}
        }
    }
    Ok((account, file))
}

/// Import an Ads Manager CSV export (admins and up). The whole file is
/// checked first; a refused file writes nothing and answers 422 with
/// `details.missing_columns` or `details.rows: [{row, column, reason}]`.
#[utoipa::path(
    post, path = "/api/v1/imports", tag = "ingestion",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Imported; the run records the counts", body = ImportAcceptedEnvelope,
         headers(("Location" = String, description = "`/api/v1/sync-runs/{id}`"))),
        E400, E401, E403, E404, E413, E422Import, E429, E500, E503,
    )
)]
pub async fn import_csv(Auth(actor): Auth, state: web::Data<AppState>, form: Multipart) -> Reply {
    let (account, file) = read_form(form).await?;
    let mut missing = ValidationError::default();
    if account.as_deref().is_none_or(str::is_empty) {
        missing.add("ad_account_id", "is required");
    }
    if file.as_ref().is_none_or(Vec::is_empty) {
        missing.add("file", "is required (the CSV export)");
    }
    missing.into_result()?;
    let id = AdAccountId::from_uuid(parse_uuid(
        "ad_account_id",
        account.as_deref().unwrap_or_default(),
    )?);
    let run = state
        .ingestion
        .import_csv
        .execute(&actor, id, file.as_deref().unwrap_or_default())
        .await?;
    let location = format!("/api/v1/sync-runs/{}", run.id);
    env::accepted(
        state.version,
        &location,
        ImportAcceptedDto {
            import_id: run.id.into_uuid(),
            sync_run_id: run.id.into_uuid(),
            sync_run: run.into(),
        },
    )
}
