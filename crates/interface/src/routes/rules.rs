//! Rules routes: `GET/POST /rules`, `GET/PUT/DELETE /rules/{id}`,
//! `POST /rules/{id}/backtest`. Any member reads and backtests; admins and
//! owners write. `PUT` replaces the whole rule and names
//! the version it edits.

use actix_web::{HttpResponse, web};
use domain::RuleId;

use super::page_request;
use crate::auth::Auth;
use crate::dto::common::PageQuery;
use crate::dto::rules::{RuleDto, RuleRequest, UpdateRuleRequest};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    E400, E401, E403, E404, E409, E413, E422, E429, E500, E503, RuleEnvelope, RuleListEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// The organization's rules, newest first (deleted rules are not listed).
#[utoipa::path(
    get, path = "/api/v1/rules", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of rules", body = RuleListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_rules(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let rules = state.rules.list_rules.execute(&actor, page).await?;
    env::page(state.version, rules, RuleDto::from)
}

/// Create a rule at version 1 (admins and up). Every bad field is listed in
/// `details.fields` by its path (`conditions.any[0].metric`).
#[utoipa::path(
    post, path = "/api/v1/rules", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = RuleRequest,
    responses(
        (status = 201, description = "Created", body = RuleEnvelope,
         headers(("Location" = String, description = "`/api/v1/rules/{id}`"))),
        E400, E401, E403, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_rule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<RuleRequest>,
) -> Reply {
    let rule = state
        .rules
        .create_rule
        .execute(&actor, body.into_inner().into())
        .await?;
    let location = format!("/api/v1/rules/{}", rule.id);
    env::created(state.version, &location, RuleDto::from(rule))
}

/// One rule at its current version.
#[utoipa::path(
    get, path = "/api/v1/rules/{id}", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = RuleEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_rule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = RuleId::from_uuid(parse_uuid("id", &path)?);
    let rule = state.rules.get_rule.execute(&actor, id).await?;
    env::ok(state.version, RuleDto::from(rule))
}

/// Replace a rule (admins and up): the whole rule plus the `version` it
/// edits. A changed rule becomes the next version (the old one is kept for
/// the suggestions it made); an identical one changes nothing. `409
/// RULE_VERSION_CONFLICT` when `version` is no longer the current one.
#[utoipa::path(
    put, path = "/api/v1/rules/{id}", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Rule id")),
    request_body = UpdateRuleRequest,
    responses(
        (status = 200, description = "The rule at its new (or unchanged) version", body = RuleEnvelope),
        E400, E401, E403, E404, E409, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_rule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateRuleRequest>,
) -> Reply {
    let id = RuleId::from_uuid(parse_uuid("id", &path)?);
    let rule = state
        .rules
        .update_rule
        .execute(&actor, id, body.into_inner().into())
        .await?;
    env::ok(state.version, RuleDto::from(rule))
}

/// Delete a rule (admins and up). It is no longer evaluated, listed or
/// found; the versions behind past suggestions are kept.
#[utoipa::path(
    delete, path = "/api/v1/rules/{id}", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_rule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = RuleId::from_uuid(parse_uuid("id", &path)?);
    state.rules.delete_rule.execute(&actor, id).await?;
    Ok(env::no_content())
}

/// Replay the rule's current version over past days: for each day from
/// `from` to `to`, what an evaluation running that day would have suggested
/// (same windows, guards and reasons as live evaluation), for every entity
/// of the rule's level. Disabled rules can be replayed; nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/rules/{id}/backtest", tag = "rules",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Rule id"), crate::dto::analysis::BacktestQuery),
    responses(
        (status = 200, description = "Days on which the rule would have suggested something", body = crate::openapi::BacktestEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn backtest_rule(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<crate::dto::analysis::BacktestQuery>,
) -> Reply {
    let id = RuleId::from_uuid(parse_uuid("id", &path)?);
    let q = q.into_inner();
    let input = application::rules::BacktestInput {
        from: q.from,
        to: q.to,
        ad_account_id: super::analysis::account_id(q.ad_account_id.as_deref())?,
    };
    let b = state
        .analysis
        .backtest_rule
        .execute(&actor, id, input)
        .await?;
    env::ok(state.version, crate::dto::analysis::BacktestDto::from(b))
}
