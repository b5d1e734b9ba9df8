//! `adscale serve`: migrations (optional), the health monitor and the HTTP server.

use std::time::Duration;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::config::Config;
use crate::wiring::{Adapters, Settings, build_state};

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
    let state = web::Data::new(build_state(&adapters, &settings)?);
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
    Ok(())
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
