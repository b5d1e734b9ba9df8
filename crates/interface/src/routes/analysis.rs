//! Analyzer routes: `GET /analysis/scores`, `/analysis/anomalies`,
//! `/analysis/trends` and `/analysis/budget-allocation`, each over one ad
//! account's campaign gold. Any member reads them; none writes anything.
//! (`POST /rules/{id}/backtest` lives with the rules routes.)

use actix_web::{HttpResponse, web};
use application::analysis::{AllocationInput, AnomaliesInput, ScoresInput, TrendsInput};
use domain::AdAccountId;

use crate::auth::Auth;
use crate::dto::analysis::{
    AllocationQuery, AnomaliesDto, AnomaliesQuery, BudgetAllocationDto, ScoresDto, ScoresQuery,
    TrendsDto, TrendsQuery,
};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    AnomaliesEnvelope, BudgetAllocationEnvelope, E400, E401, E403, E404, E422, E429, E500, E503,
    ScoresEnvelope, TrendsEnvelope,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

/// `?ad_account_id=` as an id: 400 when it is not a UUID; absent stays
/// absent (the use case says it is required).
pub(crate) fn account_id(value: Option<&str>) -> Result<Option<AdAccountId>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| parse_uuid("ad_account_id", v).map(AdAccountId::from_uuid))
        .transpose()
}

/// A 0–100 score per campaign against its ad account over the same days
/// (50 = like the account), with the factors (ROAS, CPA, CTR, CPC) that
/// produced it.
#[utoipa::path(
    get, path = "/api/v1/analysis/scores", tag = "analysis",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(ScoresQuery),
    responses(
        (status = 200, description = "Campaign scores", body = ScoresEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn scores(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<ScoresQuery>,
) -> Reply {
    let q = q.into_inner();
    let input = ScoresInput {
        ad_account_id: account_id(q.ad_account_id.as_deref())?,
        from: q.from,
        to: q.to,
    };
    let s = state.analysis.scores.execute(&actor, input).await?;
    env::ok(state.version, ScoresDto::from(s))
}

/// Campaign metrics (spend, CPA, CTR, conversions) of one day that fall
/// outside what the 28 days before it make expected (robust z-score above
/// 3.5), with the expected range.
#[utoipa::path(
    get, path = "/api/v1/analysis/anomalies", tag = "analysis",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AnomaliesQuery),
    responses(
        (status = 200, description = "The day's anomalies", body = AnomaliesEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn anomalies(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AnomaliesQuery>,
) -> Reply {
    let q = q.into_inner();
    let input = AnomaliesInput {
        ad_account_id: account_id(q.ad_account_id.as_deref())?,
        date: q.date,
    };
    let found = state.analysis.anomalies.execute(&actor, input).await?;
    env::ok(state.version, AnomaliesDto::from(found))
}

/// Per campaign and metric, the least-squares trend over the last 7 and 14
/// days and whether it is significant (t-test, p < 0.05).
#[utoipa::path(
    get, path = "/api/v1/analysis/trends", tag = "analysis",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(TrendsQuery),
    responses(
        (status = 200, description = "Campaign trends", body = TrendsEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn trends(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<TrendsQuery>,
) -> Reply {
    let q = q.into_inner();
    let input = TrendsInput {
        ad_account_id: account_id(q.ad_account_id.as_deref())?,
        metric: q.metric,
        date: q.date,
    };
    let r = state.analysis.trends.execute(&actor, input).await?;
    env::ok(state.version, TrendsDto::from(r))
}

/// A proposal moving daily budget from active campaigns whose ROAS is below
/// the account's to those above it, within `max_change_percent` per
/// campaign and never below `min_budget`; the total is conserved. Nothing is
/// stored or changed.
#[utoipa::path(
    get, path = "/api/v1/analysis/budget-allocation", tag = "analysis",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AllocationQuery),
    responses(
        (status = 200, description = "The proposal", body = BudgetAllocationEnvelope),
        E400, E401, E403, E404, E422, E429, E500, E503,
    )
)]
pub async fn budget_allocation(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AllocationQuery>,
) -> Reply {
    let q = q.into_inner();
    let input = AllocationInput {
        ad_account_id: account_id(q.ad_account_id.as_deref())?,
        max_change_percent: q.max_change_percent,
        min_budget: q.min_budget,
        from: q.from,
        to: q.to,
    };
    let a = state
        .analysis
        .budget_allocation
        .execute(&actor, input)
        .await?;
    env::ok(state.version, BudgetAllocationDto::from(a))
}
