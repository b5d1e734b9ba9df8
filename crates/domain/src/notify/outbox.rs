//! The alert outbox: alerts stored with the event they report, one delivery
//! per alert and channel, and the port workers claim and settle them through.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::channel::{ChannelId, ChannelKind};
use super::{Alert, AlertKind};
use crate::error::{RepoError, ValidationError};
use crate::ids::TenantId;
use crate::page::{Page, PageRequest};

/// Where one delivery (one alert to one channel) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted now).
    Pending,
    /// The channel took the alert.
    Delivered,
    /// Given up: refused, attempts exhausted, or the channel went away.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: &'static [DeliveryStatus] = &[Self::Pending, Self::Delivered, Self::Failed];

    /// `PENDING`, `DELIVERED` or `FAILED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    /// # Errors
    /// Not one of the wire names.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "must be one of PENDING, DELIVERED, FAILED")
            })
    }
}

/// One delivery as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel_id: ChannelId,
    /// The channel's current name (also for a deleted channel).
    pub channel_name: String,
    pub channel_kind: ChannelKind,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed, for people; never a URL or a secret.
    pub last_error: Option<String>,
    pub delivered_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// An alert with the state of its delivery to each channel.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub alert: Alert,
    /// Ordered by channel id.
    pub deliveries: Vec<Delivery>,
}

/// What `GET /alerts` narrows by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub kind: Option<AlertKind>,
    /// Alerts with at least one delivery in this state.
    pub status: Option<DeliveryStatus>,
}

/// Names one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub tenant_id: TenantId,
    pub alert_id: Uuid,
    pub channel_id: ChannelId,
}

/// The channel of a claimed delivery as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelState {
    /// Enabled: its sealed target, to open and send to.
    Active { sealed_target: Vec<u8> },
    /// Disabled since the alert was written.
    Disabled,
    /// Deleted since the alert was written.
    Deleted,
}

/// A delivery a worker holds until its lease ends.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub key: DeliveryKey,
    pub alert: Alert,
    /// Attempts including the one this claim is for.
    pub attempts: i32,
    pub channel: ChannelState,
}

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Try again at `at`; `error` says why this attempt failed.
    RetryAt {
        at: OffsetDateTime,
        error: String,
    },
    /// Give up for good.
    Failed {
        error: String,
    },
}

/// The outbox of alerts and their deliveries.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AlertOutbox: Send + Sync {
    /// Stores `alert` and, in the same transaction, a pending delivery to
    /// each of its tenant's enabled channels whose filter matches; returns
    /// how many deliveries were queued (0 with no matching channel: the
    /// alert is still kept for `GET /alerts`). An alert whose id is already
    /// stored is left as it is (0): an alert with an id derived from what it
    /// is about is queued once however often it is found.
    ///
    /// # Errors
    /// Database failures.
    async fn enqueue(&self, alert: &Alert) -> Result<usize, RepoError>;

    /// Stores `alert` with one pending delivery to `channel` only (whatever
    /// its filter). `false` (nothing stored) when the channel is missing,
    /// deleted or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn enqueue_to(&self, alert: &Alert, channel: ChannelId) -> Result<bool, RepoError>;

    /// The tenant's alerts, newest first, with their deliveries.
    ///
    /// # Errors
    /// Database failures.
    async fn list(
        &self,
        t: TenantId,
        filter: AlertFilter,
        page: PageRequest,
    ) -> Result<Page<AlertRecord>, RepoError>;

    /// One alert with its deliveries; `None` when missing or another tenant's.
    ///
    /// # Errors
    /// Database failures.
    async fn get(&self, t: TenantId, id: Uuid) -> Result<Option<AlertRecord>, RepoError>;

    /// Claims up to `limit` pending deliveries due at `now` (across
    /// tenants) whose lease is free, oldest due first: counts the attempt and
    /// holds each until `lease_until`, so no other worker takes it meanwhile
    /// (PostgreSQL skips rows another worker is claiming). A worker that dies
    /// leaves its claims to be taken again after the lease.
    ///
    /// # Errors
    /// Database failures.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, RepoError>;

    /// Records how a claimed attempt ended and releases the claim. A
    /// delivery no longer pending is left as it is.
    ///
    /// # Errors
    /// Database failures.
    async fn settle(
        &self,
        key: DeliveryKey,
        outcome: &DeliveryOutcome,
        at: OffsetDateTime,
    ) -> Result<(), RepoError>;
}
