//! `adscale serve`: migrations (optional), the health monitor, the HTTP
//! server and, in the embedded default, the job worker in the same process.
//! `adscale worker`: the job worker alone (production: any number of them).

use std::time::Duration;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::config::Config;
use crate::wiring::{Adapters, Settings, build, worker_use_cases};
use infrastructure::alerts_worker::AlertsWorkerConfig;

/// How often `/health`'s report is refreshed in the background.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// How often a failed start-up migration is retried while the database is down.
const MIGRATE_RETRY: Duration = Duration::from_secs(5);

/// Runs the server until SIGINT/SIGTERM.
///
/// # Errors
/// Bad configuration, an unopenable embedded database, a port in use.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let adapters = Adapters::connect(&config).await?;
    let settings = Settings::from_config(&config)?;
    if config.run_migrations {
        migrate_or_retry(&adapters).await;
    }
    let built = build(&adapters, &settings)?;
    let worker = if config.run_worker {
        Some(spawn_worker(&adapters, &built, &settings)?)
    } else {
        None
    };
    let state = web::Data::new(built.state);
    state.health.refresh().await;
    let health = state.health.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEALTH_EVERY);
        loop {
            tick.tick().await;
            health.refresh().await;
        }
    });
    tracing::info!(addr = %config.bind_addr, backend = adapters.pool.backend_name(), cache = if config.redis_url.is_some() { "redis" } else { "memory" }, workers = config.workers, "AdScale listening");
    HttpServer::new(move || interface::app(state.clone()))
        .workers(config.workers)
        .bind(config.bind_addr)
        .with_context(|| format!("binding {}", config.bind_addr))?
        .run()
        .await?;
    if let Some((stop, handle)) = worker {
        let _ = stop.send(());
        if let Ok(Err(e)) = handle.await {
            tracing::error!(error = %e, "worker stopped with an error");
        }
    }
    Ok(())
}

type WorkerHandle = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), infrastructure::jobs::JobsError>>,
);

/// Starts the job worker on this process, with alert delivery, the report
/// job and the weekly insights round (always: it runs the insight jobs
/// requested on demand, and writes the weekly documents unless
/// `WEEKLY_INSIGHTS=off`); it stops (finishing its current job) when the
/// returned sender fires or is dropped.
fn spawn_worker(
    adapters: &Adapters,
    built: &crate::wiring::Built,
    settings: &Settings,
) -> anyhow::Result<WorkerHandle> {
    let source = adapters
        .queue_source
        .lock()
        .map_err(|_| anyhow::anyhow!("queue source lock poisoned"))?
        .take()
        .context("the job queue was already taken by another worker")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let uses = worker_use_cases(built);
    let cfg = settings.jobs.clone();
    // One stop signal for every loop: the job worker, alerts and reports.
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = stopped.await;
        let _ = stopping.send(true);
    });
    let until_stopped = |mut seen: tokio::sync::watch::Receiver<bool>| async move {
        let _ = seen.wait_for(|stop| *stop).await;
    };
    let alerts = tokio::spawn(infrastructure::alerts_worker::run_alerts_worker(
        built.deliver_alerts.clone(),
        built.alerts_worker,
        until_stopped(stop_seen.clone()),
    ));
    let reports = tokio::spawn(infrastructure::alerts_worker::run_reports_worker(
        built.run_reports.clone(),
        AlertsWorkerConfig {
            poll_interval: built.alerts_worker.poll_interval,
            batch: settings.reports.batch,
        },
        until_stopped(stop_seen.clone()),
    ));
    let weekly = tokio::spawn(infrastructure::alerts_worker::run_weekly_insights_worker(
        built.weekly_insights.clone(),
        built.alerts_worker.poll_interval,
        until_stopped(stop_seen.clone()),
    ));
    let handle = tokio::spawn(async move {
        let jobs =
            infrastructure::jobs::run_worker(source, uses, cfg, until_stopped(stop_seen)).await;
        if jobs.is_err() {
            alerts.abort();
            reports.abort();
            weekly.abort();
        }
        // The loops finish the work in flight, then stop.
        let _ = alerts.await;
        let _ = reports.await;
        let _ = weekly.await;
        jobs
    });
    tracing::info!(
        "job worker, alert delivery, the report job and the insights round running in this process"
    );
    Ok((stop, handle))
}

/// Runs the job worker until SIGINT/SIGTERM, then lets the current job finish.
///
/// # Errors
/// Bad configuration or an unusable job schedule.
pub async fn worker(config: Config) -> anyhow::Result<()> {
    let adapters = Adapters::connect(&config).await?;
    let settings = Settings::from_config(&config)?;
    if config.run_migrations {
        adapters
            .pool
            .run_migrations()
            .await
            .context("applying migrations")?;
    }
    let built = build(&adapters, &settings)?;
    let (stop, handle) = spawn_worker(&adapters, &built, &settings)?;
    shutdown_signal().await;
    tracing::info!("shutting down: finishing the current job");
    let _ = stop.send(());
    handle.await.context("worker task")??;
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Applies migrations; when the database is unreachable the server still
/// starts (answering 503 and reporting it on `/health`) and keeps retrying.
async fn migrate_or_retry(adapters: &Adapters) {
    match adapters.pool.run_migrations().await {
        Ok(n) => tracing::info!(applied = n, "migrations up to date"),
        Err(e) => {
            tracing::error!(error = %e, "migrations failed; serving 503 until the database answers");
            let pool = adapters.pool.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(MIGRATE_RETRY).await;
                    match pool.run_migrations().await {
                        Ok(n) => {
                            tracing::info!(
                                applied = n,
                                "database reachable again; migrations up to date"
                            );
                            break;
                        }
                        Err(e) => tracing::warn!(error = %e, "database still unreachable"),
                    }
                }
            });
        }
    }
}
