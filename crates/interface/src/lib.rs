//! AdScale's HTTP edge: actix-web routes, DTOs, auth and rate-limit
//! middleware, the one error mapping, the OpenAPI document and Swagger UI.
//! Handlers extract input, call one use case and wrap the result; no SQL,
//! rules or caching here.
//!
//! # Entry points
//! - [`app`] builds the whole application for one [`AppState`]; the binary
//!   calls it per worker (`HttpServer::new(move || interface::app(state.clone()))`)
//!   and tests hand it to `actix_web::test::init_service(interface::app(state))`.
//! - [`openapi_json`] renders the OpenAPI document.
//!
//! # Layout
//! - [`routes`] — the route table and one handler module per bounded context.
//! - [`dto`] — request/response bodies (`ToSchema`), one module per context.
//! - [`envelope`] — the success envelope (with the cached-bytes fast path).
//! - [`error`] — [`ApiError`], the only mapping from failures to HTTP.
//! - [`auth`] — the [`Auth`] extractor (and per-principal rate limit).
//! - [`middleware`] — request id, span, per-IP rate limit, metrics.
//! - [`openapi`] — `ApiDoc`, the OpenAPI document.

pub mod auth;
pub mod dto;
pub mod envelope;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use auth::Auth;
pub use error::{ApiError, ErrorBody};
pub use openapi::{ApiDoc, openapi_json};
pub use routes::ROUTES;
pub use state::{
    AdsApi, AlertsApi, AppState, AuditApi, IdentityApi, IngestionApi, RateLimitSettings, RulesApi,
    SuggestionsApi,
};

/// The complete application over `state`: every route of [`ROUTES`], Swagger
/// UI at `/docs`, JSON/query/path error handling in the error envelope, a 404
/// envelope for unknown paths, gzip when asked for, and the [`middleware::Edge`]
/// middleware (request id, span, per-IP rate limit, metrics).
///
/// Cheap to call once per worker: HTTP metrics are registered in
/// `state.registry` on the first call for a given state only.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let metrics = match middleware::HttpMetrics::for_state(&state) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(error = %e, "HTTP metrics not registered; they will not be exported");
            middleware::HttpMetrics::unregistered()
        }
    };
    App::new()
        .app_data(state.clone())
        .app_data(web::Data::new(routes::platform::HealthCache::default()))
        .app_data(error::json_config())
        .app_data(error::query_config())
        .app_data(error::path_config())
        .configure(routes::register)
        .service(web::resource("/docs").route(web::get().to(routes::platform::docs_redirect)))
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api-docs/openapi.json"])))
        .default_service(web::to(error::no_route))
        .wrap(actix_web::middleware::Compress::default())
        .wrap(middleware::Edge::new(state, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type-level check (never run): [`app`] fits both the server and the test harness.
    #[allow(dead_code)]
    fn app_fits_http_server_and_test_harness(state: web::Data<AppState>) {
        let s = state.clone();
        let _server = actix_web::HttpServer::new(move || app(s.clone()));
        let _service = actix_web::test::init_service(app(state));
    }
}
