//! Delivering the alert outbox: claim due deliveries, open each channel's
//! target, send once, and record delivered / retry later / failed.

use std::sync::Arc;

use domain::ingestion::SecretBox;
use domain::notify::{
    Alert, AlertAttachments, AlertOutbox, Attachment, ChannelState, ChannelTarget, ClaimedDelivery,
    DeliveryOutcome, Notifier, RetryPolicy, jitter_for,
};
use domain::platform::Clock;
use time::{Duration, OffsetDateTime};
use tracing::{debug, info, instrument, warn};

use crate::AppError;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Deliveries claimed (each one attempt).
    pub claimed: usize,
    pub delivered: usize,
    /// Failed for now; due again later.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
}

impl DeliveryRound {
    fn add(&mut self, other: Self) {
        self.claimed += other.claimed;
        self.delivered += other.delivered;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// Sends what the outbox holds. Each claimed delivery is one attempt: a
/// retryable failure is due again after the [`RetryPolicy`]'s backoff, a
/// permanent one (or the last attempt) fails for good with its reason kept;
/// a channel deleted or disabled since the alert was written fails at once.
/// Deliveries of a round are sent one after another; the lease must outlast
/// a round (`batch` × the notifier's timeout).
pub struct DeliverAlerts {
    outbox: Arc<dyn AlertOutbox>,
    notifier: Arc<dyn Notifier>,
    secrets: Arc<dyn SecretBox>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    lease: Duration,
    batch: u32,
    attachments: Option<Arc<dyn AlertAttachments>>,
}

impl DeliverAlerts {
    #[must_use]
    pub fn new(
        outbox: Arc<dyn AlertOutbox>,
        notifier: Arc<dyn Notifier>,
        secrets: Arc<dyn SecretBox>,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
        lease: Duration,
        batch: u32,
    ) -> Self {
        Self {
            outbox,
            notifier,
            secrets,
            clock,
            policy,
            lease,
            batch: batch.max(1),
            attachments: None,
        }
    }

    /// E-mails carry the files `attachments` finds for their alert (a
    /// scheduled report); without it, no alert has files.
    #[must_use]
    pub fn with_attachments(mut self, attachments: Arc<dyn AlertAttachments>) -> Self {
        self.attachments = Some(attachments);
        self
    }

    /// The files to send with `alert` to `target`: only e-mail carries
    /// them. A file that cannot be read is left out (the alert still names
    /// where to download it) and logged.
    async fn files_for(&self, target: &ChannelTarget, alert: &Alert) -> Vec<Attachment> {
        let (Some(source), ChannelTarget::Email { .. }) = (&self.attachments, target) else {
            return Vec::new();
        };
        source.attachments(alert).await.unwrap_or_else(|e| {
            warn!(alert_id = %alert.id, error = %e, "alert attachment not read; sending without it");
            Vec::new()
        })
    }

    /// One round now: claims up to `batch` due deliveries and attempts each.
    ///
    /// # Errors
    /// The outbox could not be read (claims are retried next round).
    pub async fn run_once(&self) -> Result<DeliveryRound, AppError> {
        self.run_once_at(self.clock.now()).await
    }

    /// One round as if it were `now` (tests move time forward to reach a
    /// retry without sleeping).
    ///
    /// # Errors
    /// The outbox could not be read.
    #[instrument(skip_all, fields(job = "deliver_alerts"))]
    pub async fn run_once_at(&self, now: OffsetDateTime) -> Result<DeliveryRound, AppError> {
        let claimed = self
            .outbox
            .claim_due(now, now + self.lease, self.batch)
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len(),
            ..DeliveryRound::default()
        };
        for d in claimed {
            let outcome = self.attempt(&d, now).await;
            match &outcome {
                DeliveryOutcome::Delivered => round.delivered += 1,
                DeliveryOutcome::RetryAt { .. } => round.retried += 1,
                DeliveryOutcome::Failed { .. } => round.failed += 1,
            }
            if let Err(e) = self.outbox.settle(d.key, &outcome, now).await {
                // The lease runs out and the delivery is tried again.
                warn!(error = %e, alert_id = %d.key.alert_id, channel_id = %d.key.channel_id, "could not record a delivery attempt");
            }
        }
        if round.claimed > 0 {
            info!(
                claimed = round.claimed,
                delivered = round.delivered,
                retried = round.retried,
                failed = round.failed,
                "alert deliveries attempted"
            );
        }
        Ok(round)
    }

    /// Rounds at `now` until nothing is due (at most 1,000 rounds).
    ///
    /// # Errors
    /// The outbox could not be read.
    pub async fn drain_at(&self, now: OffsetDateTime) -> Result<DeliveryRound, AppError> {
        let mut total = DeliveryRound::default();
        for _ in 0..1_000 {
            let round = self.run_once_at(now).await?;
            total.add(round);
            if round.claimed == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// One attempt of one delivery, decided.
    async fn attempt(&self, d: &ClaimedDelivery, now: OffsetDateTime) -> DeliveryOutcome {
        let sealed = match &d.channel {
            ChannelState::Deleted => {
                return DeliveryOutcome::Failed {
                    error: "the channel was deleted before the alert was delivered".to_owned(),
                };
            }
            ChannelState::Disabled => {
                return DeliveryOutcome::Failed {
                    error: "the channel was disabled before the alert was delivered".to_owned(),
                };
            }
            ChannelState::Active { sealed_target } => sealed_target,
        };
        let target = self
            .secrets
            .open(sealed)
            .ok()
            .and_then(|t| ChannelTarget::from_sealed_json(t.expose()));
        let Some(target) = target else {
            return DeliveryOutcome::Failed {
                error: "the channel's target cannot be decrypted (was APP_ENCRYPTION_KEY changed?)"
                    .to_owned(),
            };
        };
        let files = self.files_for(&target, &d.alert).await;
        let sent = if files.is_empty() {
            self.notifier.deliver(&target, &d.alert).await
        } else {
            self.notifier.deliver_with(&target, &d.alert, &files).await
        };
        match sent {
            Ok(()) => {
                debug!(alert_id = %d.key.alert_id, channel_id = %d.key.channel_id, "alert delivered");
                DeliveryOutcome::Delivered
            }
            Err(e) => {
                self.policy
                    .after_failure(d.attempts, &e, now, jitter_for(&d.key, d.attempts))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use domain::TenantId;
    use domain::ingestion::{AccessToken, MockSecretBox};
    use domain::notify::{
        Alert, AlertKind, ChannelId, DeliveryError, DeliveryKey, MockAlertOutbox, MockNotifier,
        Severity,
    };
    use domain::platform::MockClock;
    use time::macros::datetime;
    use uuid::Uuid;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn claimed(channel: ChannelState, attempts: i32) -> ClaimedDelivery {
        let tenant = TenantId::generate();
        let alert = Alert {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            kind: AlertKind::SyncFailed,
            severity: Severity::Warning,
            title: "t".into(),
            body: "b".into(),
            data: serde_json::json!({}),
            created_at: NOW,
        };
        ClaimedDelivery {
            key: DeliveryKey {
                tenant_id: tenant,
                alert_id: alert.id,
                channel_id: ChannelId::generate(),
            },
            alert,
            attempts,
            channel,
        }
    }

    fn slack() -> ChannelState {
        let t = ChannelTarget::Slack {
            webhook_url: "https://hooks.slack.com/services/T/B/X".into(),
        };
        ChannelState::Active {
            sealed_target: t.to_sealed_json().into_bytes(),
        }
    }

    /// The use case over `batch` (claimed once), a notifier answering
    /// `answer`, recording what was settled.
    fn use_case(
        batch: Vec<ClaimedDelivery>,
        answer: Result<(), DeliveryError>,
        settled: Arc<Mutex<Vec<DeliveryOutcome>>>,
        expect_sends: usize,
    ) -> DeliverAlerts {
        let mut outbox = MockAlertOutbox::new();
        let mut once = Some(batch);
        outbox.expect_claim_due().returning(move |now, until, _| {
            assert_eq!(until - now, Duration::minutes(5));
            Ok(once.take().unwrap_or_default())
        });
        outbox.expect_settle().returning(move |_, o, _| {
            settled.lock().unwrap().push(o.clone());
            Ok(())
        });
        let mut notifier = MockNotifier::new();
        notifier
            .expect_deliver()
            .times(expect_sends)
            .returning(move |_, _| answer.clone());
        let mut secrets = MockSecretBox::new();
        secrets
            .expect_open()
            .returning(|b| Ok(AccessToken::new(String::from_utf8_lossy(b).into_owned())));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        DeliverAlerts::new(
            Arc::new(outbox),
            Arc::new(notifier),
            Arc::new(secrets),
            Arc::new(clock),
            RetryPolicy {
                max_attempts: 3,
                base: Duration::seconds(10),
                max: Duration::minutes(10),
            },
            Duration::minutes(5),
            10,
        )
    }

    #[tokio::test]
    async fn a_delivered_alert_is_recorded_delivered() {
        let settled = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(vec![claimed(slack(), 1)], Ok(()), settled.clone(), 1);
        let round = uc.drain_at(NOW).await.unwrap();
        assert_eq!((round.claimed, round.delivered), (1, 1));
        assert_eq!(*settled.lock().unwrap(), [DeliveryOutcome::Delivered]);
    }

    #[tokio::test]
    async fn a_retryable_failure_is_due_again_after_backoff() {
        let settled = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(
            vec![claimed(slack(), 1)],
            Err(DeliveryError::Retryable("Slack answered HTTP 503".into())),
            settled.clone(),
            1,
        );
        let round = uc.run_once().await.unwrap();
        assert_eq!(round.retried, 1);
        let settled = settled.lock().unwrap();
        let [DeliveryOutcome::RetryAt { at, error }] = settled.as_slice() else {
            panic!("{settled:?}")
        };
        assert!(*at >= NOW + Duration::seconds(5) && *at < NOW + Duration::seconds(10));
        assert_eq!(error, "Slack answered HTTP 503");
    }

    #[tokio::test]
    async fn the_last_attempt_and_permanent_errors_fail_for_good() {
        let settled = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(
            vec![claimed(slack(), 3)],
            Err(DeliveryError::Retryable("HTTP 500".into())),
            settled.clone(),
            1,
        );
        uc.run_once().await.unwrap();
        assert_eq!(
            *settled.lock().unwrap(),
            [DeliveryOutcome::Failed {
                error: "gave up after 3 attempts: HTTP 500".into()
            }]
        );
    }

    #[tokio::test]
    async fn deleted_or_disabled_channels_fail_without_sending() {
        let settled = Arc::new(Mutex::new(Vec::new()));
        let uc = use_case(
            vec![
                claimed(ChannelState::Deleted, 1),
                claimed(ChannelState::Disabled, 1),
            ],
            Ok(()),
            settled.clone(),
            0,
        );
        let round = uc.run_once().await.unwrap();
        assert_eq!(round.failed, 2);
        let settled = settled.lock().unwrap();
        assert!(
            matches!(&settled[0], DeliveryOutcome::Failed { error } if error.contains("deleted"))
        );
        assert!(
            matches!(&settled[1], DeliveryOutcome::Failed { error } if error.contains("disabled"))
        );
    }
}
