//! The alert delivery loop: polls the outbox through
//! [`DeliverAlerts`] every `poll_interval`, straight again while rounds come
//! back full (a backlog), and stops between rounds on shutdown, so an
//! attempt in flight is finished and recorded. Runs inside `adscale serve`
//! (embedded) and in every `adscale worker`; on PostgreSQL several loops
//! share the outbox (claims skip locked rows), on SQLite one process runs it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use application::notify::DeliverAlerts;

/// Tunables of the loop (the retry policy and lease live in [`DeliverAlerts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertsWorkerConfig {
    /// Pause between rounds when the last one found less than a full batch.
    pub poll_interval: Duration,
    /// Deliveries claimed per round (must match [`DeliverAlerts`]'s batch).
    pub batch: u32,
}

impl Default for AlertsWorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            batch: 20,
        }
    }
}

/// Runs delivery rounds until `shutdown` resolves. A failed round (the
/// database is down) is logged and retried after the poll interval.
pub async fn run_alerts_worker(
    deliver: Arc<DeliverAlerts>,
    cfg: AlertsWorkerConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    let full = usize::try_from(cfg.batch).unwrap_or(usize::MAX).max(1);
    tracing::info!(
        poll_ms = u64::try_from(cfg.poll_interval.as_millis()).unwrap_or(u64::MAX),
        "alert delivery running"
    );
    loop {
        let backlog = match deliver.run_once().await {
            Ok(round) => round.claimed >= full,
            Err(e) => {
                tracing::warn!(error = %e, "alert delivery round failed; retrying");
                false
            }
        };
        if backlog {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = std::future::ready(()) => continue,
            }
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(cfg.poll_interval) => {}
        }
    }
    tracing::info!("alert delivery stopped");
}
