//! Platform routes, outside `/api/v1` and without authentication: `/health`
//! (from the background health report, no I/O per request), `/metrics`
//! (Prometheus text) and the OpenAPI document.

use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use application::platform::{HealthReport, HealthStatus};
use bytes::Bytes;
use prometheus::Encoder;

use crate::dto::platform::HealthDto;
use crate::error::ApiError;
use crate::state::AppState;

/// The last rendered `/health` body, reused while the report is the same one
/// (the monitor swaps in a new `Arc` on each refresh). One per worker.
#[derive(Default)]
pub struct HealthCache(Mutex<Option<(Arc<HealthReport>, Bytes)>>);

impl HealthCache {
    fn body(&self, report: &Arc<HealthReport>, version: &str) -> Result<Bytes, ApiError> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((r, b)) = slot.as_ref()
            && Arc::ptr_eq(r, report)
        {
            return Ok(b.clone());
        }
        let b = Bytes::from(
            serde_json::to_vec(&HealthDto::new(report, version)).map_err(ApiError::internal)?,
        );
        *slot = Some((Arc::clone(report), b.clone()));
        Ok(b)
    }
}

/// Liveness and each dependency's state; 503 when a critical one is down.
#[utoipa::path(
    get, path = "/health", tag = "platform", security(()),
    responses(
        (status = 200, description = "Up (`ok` or `degraded`)", body = HealthDto),
        (status = 503, description = "Down: a critical dependency is unavailable", body = HealthDto),
    )
)]
pub async fn health(
    state: web::Data<AppState>,
    cache: web::Data<HealthCache>,
) -> Result<HttpResponse, ApiError> {
    let report = state.health.latest();
    let body = cache.body(&report, state.version)?;
    let status = if report.status == HealthStatus::Down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(body))
}

/// Every metric of the process, in the Prometheus text format.
#[utoipa::path(
    get, path = "/metrics", tag = "platform", security(()),
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 500, description = "The metrics could not be encoded", body = crate::error::ErrorBody),
    )
)]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let encoder = prometheus::TextEncoder::new();
    let mut buf = Vec::with_capacity(16 * 1024);
    encoder
        .encode(&state.registry.gather(), &mut buf)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, encoder.format_type()))
        .body(buf))
}

/// This document.
#[utoipa::path(
    get, path = "/api-docs/openapi.json", tag = "platform", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json"))
)]
pub async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(crate::openapi::openapi_json_static())
}

/// `/docs` → `/docs/`, where Swagger UI lives.
pub(crate) async fn docs_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, HeaderValue::from_static("/docs/")))
        .finish()
}
