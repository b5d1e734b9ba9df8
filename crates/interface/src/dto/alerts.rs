//! Notification channel and alert DTOs. A channel is
//! `{id, name, kind, target, events, min_severity, enabled, created_at,
//! updated_at}`: `target` is the redacted description of where it sends
//! (`https://hooks.slack.com/<redacted>`, or the e-mail recipients); the
//! webhook URL and signing secret given in `config` are write-only. An
//! alert is `{id, kind, severity, title, body, data, created_at,
//! deliveries: [{channel_id, channel_name, channel_kind, status, attempts,
//! next_attempt_at?, last_error?, delivered_at?, updated_at}]}`.

use application::notify::{ChannelInput, ChannelPatchInput};
use domain::notify::{
    Alert, AlertRecord, ChannelKind, Delivery, DeliveryStatus, NotificationChannel,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{double_option, timestamp, timestamp_opt};

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKindDto {
    Slack,
    Email,
    Webhook,
}

impl From<ChannelKind> for ChannelKindDto {
    fn from(k: ChannelKind) -> Self {
        match k {
            ChannelKind::Slack => Self::Slack,
            ChannelKind::Email => Self::Email,
            ChannelKind::Webhook => Self::Webhook,
        }
    }
}

/// `POST /notification-channels`. `config` by kind: `slack` →
/// `{"webhook_url": "https://hooks.slack.com/services/…"}`; `email` →
/// `{"to": ["ana@example.com"]}` (1–20 addresses); `webhook` →
/// `{"url": "https://…", "secret": "…"}` (secret 16–256 characters, used
/// for the `X-AdScale-Signature` HMAC). URLs must be `https://` (`http://`
/// only for `localhost`/`127.0.0.1`/`[::1]`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChannelRequest {
    #[schema(example = "Marketing Slack")]
    pub name: Option<String>,
    /// `slack`, `email` or `webhook`.
    #[schema(example = "slack")]
    pub kind: Option<String>,
    /// The target; write-only (never returned).
    #[schema(value_type = Object, example = json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}))]
    pub config: Option<Value>,
    /// Alert kinds to send (`suggestion.created`, `anomaly.detected`,
    /// `sync.failed`, `token.expired`, `action.applied`, `action.failed`,
    /// `report.ready`); empty or absent: all.
    pub events: Option<Vec<String>>,
    /// Lowest severity sent (`info`, `warning`, `critical`); absent: all.
    pub min_severity: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

impl From<ChannelRequest> for ChannelInput {
    fn from(r: ChannelRequest) -> Self {
        Self {
            name: r.name,
            kind: r.kind,
            config: r.config,
            events: r.events,
            min_severity: r.min_severity,
            enabled: r.enabled,
        }
    }
}

/// `PATCH /notification-channels/{id}`: absent fields stay; `config`
/// replaces the whole target (same shape as on creation; the kind cannot
/// change); `min_severity: null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChannelPatchRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub min_severity: Option<Option<String>>,
    pub enabled: Option<bool>,
}

impl From<ChannelPatchRequest> for ChannelPatchInput {
    fn from(r: ChannelPatchRequest) -> Self {
        Self {
            name: r.name,
            config: r.config,
            events: r.events,
            min_severity: r.min_severity,
            enabled: r.enabled,
        }
    }
}

/// A notification channel, without its secrets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelDto {
    pub id: Uuid,
    pub name: String,
    pub kind: ChannelKindDto,
    /// Where it sends, redacted: scheme and host of a URL, or the recipients.
    #[schema(example = "https://hooks.slack.com/<redacted>")]
    pub target: String,
    /// Alert kinds sent; empty: all.
    pub events: Vec<String>,
    /// Lowest severity sent; `null`: all.
    pub min_severity: Option<String>,
    pub enabled: bool,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<NotificationChannel> for ChannelDto {
    fn from(c: NotificationChannel) -> Self {
        Self {
            id: c.id.into_uuid(),
            name: c.name,
            kind: c.kind.into(),
            target: c.display,
            events: c
                .filter
                .events
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            min_severity: c.filter.min_severity.map(|s| s.as_str().to_owned()),
            enabled: c.enabled,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatusDto {
    Pending,
    Delivered,
    Failed,
}

impl From<DeliveryStatus> for DeliveryStatusDto {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

/// One alert's delivery to one channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub channel_id: Uuid,
    pub channel_name: String,
    pub channel_kind: ChannelKindDto,
    pub status: DeliveryStatusDto,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed (no URLs or secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "the webhook answered HTTP 400")]
    pub last_error: Option<String>,
    #[serde(
        serialize_with = "timestamp_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        Self {
            channel_id: d.channel_id.into_uuid(),
            channel_name: d.channel_name,
            channel_kind: d.channel_kind.into(),
            status: d.status.into(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            updated_at: d.updated_at,
        }
    }
}

/// An alert and its delivery to each channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertDto {
    pub id: Uuid,
    /// `suggestion.created`, `anomaly.detected`, `sync.failed`,
    /// `token.expired`, `action.applied`, `action.failed`, `report.ready` or
    /// `channel.test`.
    #[schema(example = "suggestion.created")]
    pub kind: String,
    /// `info`, `warning` or `critical`.
    #[schema(example = "warning")]
    pub severity: String,
    #[schema(example = "Suggestion: pause campaign \"Summer sale\"")]
    pub title: String,
    pub body: String,
    /// Machine-readable details (ids, values), as sent to webhooks.
    #[schema(value_type = Object)]
    pub data: Value,
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// One per channel the alert was addressed to (none when no channel matched).
    pub deliveries: Vec<DeliveryDto>,
}

impl From<Alert> for AlertDto {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id,
            kind: a.kind.as_str().to_owned(),
            severity: a.severity.as_str().to_owned(),
            title: a.title,
            body: a.body,
            data: a.data,
            created_at: a.created_at,
            deliveries: Vec::new(),
        }
    }
}

impl From<AlertRecord> for AlertDto {
    fn from(r: AlertRecord) -> Self {
        Self {
            deliveries: r.deliveries.into_iter().map(DeliveryDto::from).collect(),
            ..Self::from(r.alert)
        }
    }
}

/// `GET /alerts?kind&status&limit&cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertListQuery {
    /// Only alerts of this kind (`suggestion.created`, `sync.failed`, …).
    pub kind: Option<String>,
    /// Only alerts with a delivery in this state (`PENDING`, `DELIVERED`, `FAILED`).
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
