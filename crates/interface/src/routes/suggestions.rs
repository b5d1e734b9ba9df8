//! Suggestion routes: `GET /suggestions`, `GET /suggestions/{id}`,
//! `POST /suggestions/{id}/accept`, `POST /suggestions/{id}/reject`. Any
//! member reads; admins and owners decide. Suggestions are made by rule evaluation after each sync, never
//! through the API.

use actix_web::{HttpResponse, web};
use domain::SuggestionId;
use domain::error::ValidationError;
use domain::rules::SuggestionStatus;

use super::page_request;
use crate::auth::Auth;
use crate::dto::suggestions::{RejectRequest, SuggestionDto, SuggestionListQuery};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    E400, E401, E403, E404, E409, E413, E422, E429, E500, E503, SuggestionEnvelope,
    SuggestionListEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// The organization's suggestions, newest first; `status` narrows them
/// (`PENDING` for the ones waiting for a decision).
#[utoipa::path(
    get, path = "/api/v1/suggestions", tag = "suggestions",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(SuggestionListQuery),
    responses(
        (status = 200, description = "A page of suggestions", body = SuggestionListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_suggestions(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<SuggestionListQuery>,
) -> Reply {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<SuggestionStatus>)
        .transpose()
        .map_err(|e| ValidationError::new("status", &e.to_string()))?;
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state
        .suggestions
        .list_suggestions
        .execute(&actor, status, page)
        .await?;
    env::page(state.version, items, SuggestionDto::from)
}

/// One suggestion, with the metrics and sentence that explain it.
#[utoipa::path(
    get, path = "/api/v1/suggestions/{id}", tag = "suggestions",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")),
    responses(
        (status = 200, description = "The suggestion", body = SuggestionEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_suggestion(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = SuggestionId::from_uuid(parse_uuid("id", &path)?);
    let s = state.suggestions.get_suggestion.execute(&actor, id).await?;
    env::ok(state.version, SuggestionDto::from(s))
}

/// Accept a pending suggestion (admins and up, signed in as a person). It
/// becomes `ACCEPTED` at once and the apply job makes the change on the ad
/// platform within seconds (`APPLIED`, with the campaign before and after in
/// the audit log, or `FAILED` with the reason). `409 SUGGESTION_NOT_PENDING`
/// when it was already decided or expired, so nothing is applied twice.
#[utoipa::path(
    post, path = "/api/v1/suggestions/{id}/accept", tag = "suggestions",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")),
    responses(
        (status = 202, description = "Accepted; being applied", body = SuggestionEnvelope),
        E400, E401, E403, E404, E409, E429, E500, E503,
    )
)]
pub async fn accept_suggestion(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = SuggestionId::from_uuid(parse_uuid("id", &path)?);
    let s = state
        .suggestions
        .accept_suggestion
        .execute(&actor, id)
        .await?;
    let location = format!("/api/v1/suggestions/{id}");
    env::accepted(state.version, &location, SuggestionDto::from(s))
}

/// Reject a pending suggestion (admins and up, signed in as a person), with
/// a reason; it is not suggested again for the same window. `409
/// SUGGESTION_NOT_PENDING` when it was already decided or expired.
#[utoipa::path(
    post, path = "/api/v1/suggestions/{id}/reject", tag = "suggestions",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")),
    request_body = RejectRequest,
    responses(
        (status = 200, description = "The rejected suggestion", body = SuggestionEnvelope),
        E400, E401, E403, E404, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn reject_suggestion(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RejectRequest>,
) -> Reply {
    let id = SuggestionId::from_uuid(parse_uuid("id", &path)?);
    let s = state
        .suggestions
        .reject_suggestion
        .execute(&actor, id, body.into_inner().reason)
        .await?;
    env::ok(state.version, SuggestionDto::from(s))
}
