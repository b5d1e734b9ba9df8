//! Background polling loops: alert delivery over the outbox through
//! [`DeliverAlerts`], the report job through [`RunReports`], and the
//! insights round (insight jobs and the weekly documents) through
//! [`WeeklyInsights`]. Each polls
//! every `poll_interval`, goes straight again while rounds come back full (a
//! backlog), and stops between rounds on shutdown, so work in flight is
//! finished and recorded. They run inside `adscale serve` (embedded) and in
//! every `adscale worker`; on PostgreSQL several loops share the queues
//! (claims skip locked rows), on SQLite one process runs them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use application::assistant::WeeklyInsights;
use application::notify::DeliverAlerts;
use application::reports::RunReports;

/// Tunables of the loop (the retry policy and lease live in the use case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertsWorkerConfig {
    /// Pause between rounds when the last one found less than a full batch.
    pub poll_interval: Duration,
    /// Items claimed per round (must match the use case's batch).
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
    let full = usize::try_from(cfg.batch).unwrap_or(usize::MAX).max(1);
    poll_loop("alert delivery", cfg.poll_interval, shutdown, || async {
        deliver.run_once().await.map(|round| round.claimed >= full)
    })
    .await;
}

/// Runs report rounds (render what is queued, delete expired files) until
/// `shutdown` resolves.
pub async fn run_reports_worker(
    reports: Arc<RunReports>,
    cfg: AlertsWorkerConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let full = usize::try_from(cfg.batch).unwrap_or(usize::MAX).max(1);
    poll_loop("report job", cfg.poll_interval, shutdown, || async {
        reports.run_once().await.map(|taken| taken >= full)
    })
    .await;
}

/// Runs insights rounds until `shutdown` resolves: the insight jobs
/// requested on demand every round, and (unless the round is jobs-only,
/// `WEEKLY_INSIGHTS=off`) each account's document of the week just ended,
/// from Monday morning in its zone, looked for at most once a minute
/// however short the interval.
pub async fn run_weekly_insights_worker(
    weekly: Arc<WeeklyInsights>,
    poll_interval: Duration,
    shutdown: impl Future<Output = ()> + Send,
) {
    poll_loop("weekly insights", poll_interval, shutdown, || async {
        weekly.run_once().await.map(|round| round.full)
    })
    .await;
}

/// Calls `round` until `shutdown`: again at once while it reports a
/// backlog (`Ok(true)`), after `poll_interval` otherwise; a failed round is
/// logged and retried after the interval.
async fn poll_loop<F, Fut, E>(
    what: &'static str,
    poll_interval: Duration,
    shutdown: impl Future<Output = ()> + Send,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, E>>,
    E: std::fmt::Display,
{
    tokio::pin!(shutdown);
    tracing::info!(
        poll_ms = u64::try_from(poll_interval.as_millis()).unwrap_or(u64::MAX),
        "{what} running"
    );
    loop {
        let backlog = match round().await {
            Ok(backlog) => backlog,
            Err(e) => {
                tracing::warn!(error = %e, "{what} round failed; retrying");
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
            () = tokio::time::sleep(poll_interval) => {}
        }
    }
    tracing::info!("{what} stopped");
}
