//! Alert routes: notification channels (`GET/POST /notification-channels`,
//! `GET/PATCH/DELETE /notification-channels/{id}`,
//! `POST /notification-channels/{id}/test`) and the alerts sent to them
//! (`GET /alerts`, `GET /alerts/{id}`). Any member reads; admins and owners
//! write. Channel secrets are write-only.

use actix_web::{HttpResponse, web};
use domain::notify::{AlertFilter, AlertKind, ChannelId, DeliveryStatus};

use super::page_request;
use crate::auth::Auth;
use crate::dto::alerts::{
    AlertDto, AlertListQuery, ChannelDto, ChannelPatchRequest, ChannelRequest,
};
use crate::dto::common::PageQuery;
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{
    AlertEnvelope, AlertListEnvelope, ChannelEnvelope, ChannelListEnvelope, E400, E401, E403, E404,
    E409, E413, E422, E429, E500, E503,
};
use crate::state::AppState;

type Reply = Result<HttpResponse, ApiError>;

fn channel_id(path: &str) -> Result<ChannelId, ApiError> {
    Ok(ChannelId::from_uuid(parse_uuid("id", path)?))
}

/// The organization's notification channels, newest first.
#[utoipa::path(
    get, path = "/api/v1/notification-channels", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of channels", body = ChannelListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_channels(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Reply {
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state.alerts.list_channels.execute(&actor, page).await?;
    env::page(state.version, items, ChannelDto::from)
}

/// Create a channel (admins and up). Alerts written from now on are sent to
/// it when they match its `events` and `min_severity`. The target in
/// `config` is stored encrypted and never returned.
#[utoipa::path(
    post, path = "/api/v1/notification-channels", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    request_body = ChannelRequest,
    responses(
        (status = 201, description = "Created", body = ChannelEnvelope,
         headers(("Location" = String, description = "`/api/v1/notification-channels/{id}`"))),
        E400, E401, E403, E413, E422, E429, E500, E503,
    )
)]
pub async fn create_channel(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    body: web::Json<ChannelRequest>,
) -> Reply {
    let c = state
        .alerts
        .create_channel
        .execute(&actor, body.into_inner().into())
        .await?;
    let location = format!("/api/v1/notification-channels/{}", c.id);
    env::created(state.version, &location, ChannelDto::from(c))
}

/// One channel.
#[utoipa::path(
    get, path = "/api/v1/notification-channels/{id}", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = ChannelEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_channel(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let c = state
        .alerts
        .get_channel
        .execute(&actor, channel_id(&path)?)
        .await?;
    env::ok(state.version, ChannelDto::from(c))
}

/// Change a channel (admins and up): name, target (`config`), filter or
/// `enabled`. A disabled channel receives nothing; its pending deliveries fail.
#[utoipa::path(
    patch, path = "/api/v1/notification-channels/{id}", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Channel id")),
    request_body = ChannelPatchRequest,
    responses(
        (status = 200, description = "The changed channel", body = ChannelEnvelope),
        E400, E401, E403, E404, E413, E422, E429, E500, E503,
    )
)]
pub async fn update_channel(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ChannelPatchRequest>,
) -> Reply {
    let c = state
        .alerts
        .update_channel
        .execute(&actor, channel_id(&path)?, body.into_inner().into())
        .await?;
    env::ok(state.version, ChannelDto::from(c))
}

/// Delete a channel (admins and up). Its past deliveries stay visible on
/// the alerts; pending ones fail.
#[utoipa::path(
    delete, path = "/api/v1/notification-channels/{id}", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses(
        (status = 204, description = "Deleted"),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn delete_channel(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    state
        .alerts
        .delete_channel
        .execute(&actor, channel_id(&path)?)
        .await?;
    Ok(env::no_content())
}

/// Queue a test alert (`channel.test`) to this channel only (admins and
/// up). A worker sends it shortly; follow it at `Location`. `409
/// CHANNEL_DISABLED` for a disabled channel.
#[utoipa::path(
    post, path = "/api/v1/notification-channels/{id}/test", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses(
        (status = 202, description = "The queued test alert", body = AlertEnvelope,
         headers(("Location" = String, description = "`/api/v1/alerts/{id}`"))),
        E400, E401, E403, E404, E409, E429, E500, E503,
    )
)]
pub async fn test_channel(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let alert = state
        .alerts
        .test_channel
        .execute(&actor, channel_id(&path)?)
        .await?;
    let location = format!("/api/v1/alerts/{}", alert.id);
    env::accepted(state.version, &location, AlertDto::from(alert))
}

/// The organization's alerts, newest first, each with its delivery state
/// per channel. `kind` narrows to one alert kind; `status` to alerts with a
/// delivery in that state (`FAILED`: what did not arrive).
#[utoipa::path(
    get, path = "/api/v1/alerts", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AlertListQuery),
    responses(
        (status = 200, description = "A page of alerts", body = AlertListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_alerts(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AlertListQuery>,
) -> Reply {
    let kind = q.kind.as_deref().map(str::parse::<AlertKind>).transpose()?;
    let status = q.status.as_deref().map(DeliveryStatus::parse).transpose()?;
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state
        .alerts
        .list_alerts
        .execute(&actor, AlertFilter { kind, status }, page)
        .await?;
    env::page(state.version, items, AlertDto::from)
}

/// One alert with each channel's delivery status, attempts and last error.
#[utoipa::path(
    get, path = "/api/v1/alerts/{id}", tag = "alerts",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertEnvelope),
        E400, E401, E403, E404, E429, E500, E503,
    )
)]
pub async fn get_alert(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Reply {
    let id = parse_uuid("id", &path)?;
    let r = state.alerts.get_alert.execute(&actor, id).await?;
    env::ok(state.version, AlertDto::from(r))
}
