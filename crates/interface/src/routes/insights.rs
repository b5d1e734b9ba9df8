//! Generated insight routes: `POST /insights/generate` (queues an insight
//! job: a weekly document per ad account, from its data, figures
//! verified), the job, the organization's insights and one insight.
//! Generating needs an analyst or above; any member reads them.

use actix_web::web;
use domain::{InsightId, InsightJobId};

use super::page_request;
use crate::auth::Auth;
use crate::dto::insights::{GenerateInsightsQuery, InsightDto, InsightJobDto, InsightListQuery};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    E400, E401, E403, E404, E422, E429, E500, E503, InsightEnvelope, InsightJobEnvelope,
    InsightListEnvelope,
};
use crate::state::AppState;

type Reply = Result<actix_web::HttpResponse, ApiError>;

/// Request the weekly insight of each of the organization's ad accounts
/// (or of `ad_account_id`) for `week` (each account's last whole ISO week
/// when absent): a headline, 3–5 findings with their figures and 1–5
/// actions, comparing the week with the week before. A job: checked at
/// once (`403` below analyst, `422` for a bad `week` or no ad account,
/// `404` for another organization's account; nothing is stored then), it
/// answers `202` with the job `QUEUED` and `Location`; a worker writes the
/// documents (one model call per account) and the job becomes `DONE` with
/// their `insight_ids`, or `FAILED` with `failure` (the account deleted
/// meanwhile). Generating again replaces the account's insight of that
/// week. A document's `mode` is `llm` when the model's document passed
/// verification, `builtin` otherwise (no model, the model unavailable, or
/// its draft refused twice).
#[utoipa::path(
    post, path = "/api/v1/insights/generate", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(GenerateInsightsQuery),
    responses(
        (status = 202, description = "Queued", body = InsightJobEnvelope,
         headers(("Location" = String, description = "`/api/v1/insight-jobs/{id}`"))),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn generate_insights(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<GenerateInsightsQuery>,
) -> Reply {
    let q = q.into_inner();
    let account = q
        .ad_account_id
        .as_deref()
        .map(|id| parse_uuid("ad_account_id", id))
        .transpose()?
        .map(Into::into);
    let job = state
        .assistant
        .request_insights
        .execute(&actor, q.week, account)
        .await?;
    let location = format!("/api/v1/insight-jobs/{}", job.id);
    env::accepted(state.version, &location, InsightJobDto::from(job))
}

/// One insight job: `QUEUED`, `DONE` (with `insight_ids`) or `FAILED`
/// (with `failure`). Any member; another organization's job is `404`.
#[utoipa::path(
    get, path = "/api/v1/insight-jobs/{id}", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Insight job id")),
    responses(
        (status = 200, description = "The insight job", body = InsightJobEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_insight_job(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = InsightJobId::from_uuid(parse_uuid("id", &path)?);
    let job = state.assistant.get_insight_job.execute(&actor, id).await?;
    env::ok(state.version, InsightJobDto::from(job))
}

/// The organization's generated insights, newest first.
#[utoipa::path(
    get, path = "/api/v1/insights", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(InsightListQuery),
    responses(
        (status = 200, description = "A page of insights", body = InsightListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_insights(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<InsightListQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state.assistant.list_insights.execute(&actor, page).await?;
    env::page(state.version, items, InsightDto::from)
}

/// One generated insight.
#[utoipa::path(
    get, path = "/api/v1/insights/{id}", tag = "assistant",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Insight id")),
    responses(
        (status = 200, description = "The insight", body = InsightEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_insight(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = InsightId::from_uuid(parse_uuid("id", &path)?);
    let insight = state.assistant.get_insight.execute(&actor, id).await?;
    env::ok(state.version, InsightDto::from(insight))
}
