//! The one request middleware, [`Edge`], kept deliberately small because it
//! runs on every request (including `/health`, which load balancers hammer):
//!
//! 1. **Request id** — an incoming `X-Request-Id` is kept if it is sane
//!    (1–128 characters of `[A-Za-z0-9._:-]`), otherwise a UUID v4 is made;
//!    it is echoed in the response.
//! 2. **Span** — `info_span!("http_request", request_id, method, route,
//!    status, tenant_id = Empty)`; the handler, the [`Auth`] extractor (which
//!    records `tenant_id`) and every log line inside run in it. Requests are
//!    logged at `debug` when done, at `warn` when the status is 5xx.
//! 3. **Authentication** — when `Authorization` or `X-API-Key` is present the
//!    caller is authenticated here, once; the outcome goes into the request
//!    extensions for the [`Auth`] extractor and `tenant_id` onto the span.
//! 4. **Rate limit** — one limiter call per request counts the client IP
//!    (the peer address only; no proxy header is trusted) and, when
//!    authenticated, the principal, `per_minute` each per 60 s; the decision
//!    is the tighter of the two. With Redis that is one atomic script, so
//!    every instance shares the counts. Skipped for `/health`, `/metrics`,
//!    `/docs` and `/api-docs` and when limiting is disabled. Denied → 429
//!    before routing; every limited response carries `RateLimit-*` headers.
//! 5. **Metrics** — `adscale_http_requests_total{method,route,status}` and
//!    `adscale_http_request_duration_seconds{method,route}`, labelled with the
//!    matched route pattern (`unmatched` for unknown paths, so label
//!    cardinality stays bounded).
//!
//! [`Auth`]: crate::auth::Auth

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tracing::Instrument;
use tracing::field::Empty;

use crate::auth::{Authenticated, RATE_WINDOW, authenticate, has_credentials};
use crate::error::{ApiError, put_rate_headers};
use crate::state::AppState;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");

/// The HTTP metrics, registered once per [`AppState`] registry.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

/// `app()` runs once per worker; metrics must be registered once per state.
/// Keyed by the state's allocation; dead states are dropped on each lookup.
static REGISTERED: Mutex<Vec<(Weak<AppState>, HttpMetrics)>> = Mutex::new(Vec::new());

impl HttpMetrics {
    fn build() -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "adscale_http_requests_total",
                "HTTP requests served, by route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "adscale_http_request_duration_seconds",
                "HTTP request latency, by route pattern",
            )
            .buckets(vec![
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        )?;
        Ok(Self { requests, duration })
    }

    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self::build()?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.duration.clone()))?;
        Ok(m)
    }

    /// The metrics of `state`, registered in `state.registry` on first use.
    ///
    /// # Errors
    /// The metric definitions are invalid, or the registry already holds
    /// metrics of these names from elsewhere.
    pub fn for_state(state: &web::Data<AppState>) -> Result<Self, prometheus::Error> {
        let arc: Arc<AppState> = state.clone().into_inner();
        let mut known = REGISTERED.lock().unwrap_or_else(PoisonError::into_inner);
        known.retain(|(w, _)| w.strong_count() > 0);
        if let Some((_, m)) = known
            .iter()
            .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&arc)))
        {
            return Ok(m.clone());
        }
        let m = Self::register(&state.registry)?;
        known.push((Arc::downgrade(&arc), m.clone()));
        Ok(m)
    }

    /// Metrics that count but are exported nowhere (when registration failed).
    pub(crate) fn unregistered() -> Option<Self> {
        Self::build().ok()
    }

    fn observe(&self, method: &str, route: &str, status: &str, secs: f64) {
        self.requests
            .with_label_values(&[method, route, status])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(secs);
    }
}

/// Request id, span, authentication, rate limit and metrics; see the module docs.
pub struct Edge {
    state: web::Data<AppState>,
    metrics: Option<HttpMetrics>,
}

impl Edge {
    #[must_use]
    pub fn new(state: web::Data<AppState>, metrics: Option<HttpMetrics>) -> Self {
        Self { state, metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Edge
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = EdgeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EdgeService {
            service: Rc::new(service),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
        }))
    }
}

pub struct EdgeService<S> {
    service: Rc<S>,
    state: web::Data<AppState>,
    metrics: Option<HttpMetrics>,
}

/// Paths never rate limited: probes, scrapes and documentation.
fn exempt(path: &str) -> bool {
    path == "/health"
        || path == "/metrics"
        || path.starts_with("/docs")
        || path.starts_with("/api-docs")
}

/// An incoming request id worth keeping: short and of safe characters.
fn sane_request_id(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then_some(s)
}

impl<S, B> Service<ServiceRequest> for EdgeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let start = Instant::now();
        let request_id = match req.headers().get(&X_REQUEST_ID).and_then(sane_request_id) {
            Some(s) => HeaderValue::from_str(s).ok(),
            None => None,
        }
        .unwrap_or_else(|| {
            let mut buf = uuid::Uuid::encode_buffer();
            let s = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
            HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("-"))
        });
        let span = tracing::info_span!(
            "http_request",
            request_id = request_id.to_str().unwrap_or("-"),
            method = %req.method(),
            route = Empty,
            status = Empty,
            tenant_id = Empty,
        );
        let checked = !exempt(req.path());
        let limited = checked && self.state.rate_limit.enabled;
        let authenticate_now = checked && has_credentials(req.headers());
        let ip_key = limited
            .then(|| req.peer_addr().map(|a| format!("ip:{}", a.ip())))
            .flatten();
        let service = Rc::clone(&self.service);
        let state = self.state.clone();
        let metrics = self.metrics.clone();

        let fut = async move {
            let mut keys: Vec<String> = ip_key.into_iter().collect();
            if authenticate_now {
                let outcome = authenticate(req.headers(), &state).await;
                if let Ok(actor) = &outcome {
                    tracing::Span::current()
                        .record("tenant_id", tracing::field::display(actor.tenant_id));
                    if limited {
                        keys.push(format!("principal:{}", actor.label()));
                    }
                }
                req.extensions_mut().insert(Authenticated(outcome));
            }
            let decision = if keys.is_empty() {
                None
            } else {
                Some(
                    state
                        .rate_limiter
                        .check(&keys, state.rate_limit.per_minute, RATE_WINDOW)
                        .await,
                )
            };
            let mut res = match decision {
                Some(d) if !d.allowed => {
                    let err = ApiError::rate_limited(d);
                    req.into_response(err.error_response())
                        .map_into_right_body()
                }
                _ => {
                    // Never clone the request before this call: routing needs it unshared.
                    let method = req.method().clone();
                    match service.call(req).await {
                        Ok(res) => res.map_into_left_body(),
                        Err(e) => {
                            // Not reached through our routes (handlers and
                            // extractors answer with responses); counted anyway.
                            let status = e.as_response_error().status_code();
                            if let Some(m) = &metrics {
                                let secs = start.elapsed().as_secs_f64();
                                m.observe(method.as_str(), "unmatched", status.as_str(), secs);
                            }
                            tracing::warn!(status = status.as_u16(), error = %e, "request failed");
                            return Err(e);
                        }
                    }
                }
            };

            let headers = res.headers_mut();
            headers.insert(X_REQUEST_ID, request_id);
            if !headers.contains_key(&RATELIMIT_LIMIT)
                && let Some(d) = decision
            {
                put_rate_headers(headers, &d);
            }

            let status = res.status();
            let route = res.request().match_pattern();
            let route = route.as_deref().unwrap_or("unmatched");
            let span = tracing::Span::current();
            span.record("route", route);
            span.record("status", status.as_u16());
            let elapsed = start.elapsed();
            if let Some(m) = &metrics {
                m.observe(
                    res.request().method().as_str(),
                    route,
                    status.as_str(),
                    elapsed.as_secs_f64(),
                );
            }
            let latency_ms = elapsed.as_secs_f64() * 1000.0;
            if status.is_server_error() {
                tracing::warn!(status = status.as_u16(), latency_ms, "request failed");
            } else {
                tracing::debug!(status = status.as_u16(), latency_ms, "request done");
            }
            Ok(res)
        };
        Box::pin(fut.instrument(span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_sane_request_ids() {
        let ok = HeaderValue::from_static("abc-123_X.y:z");
        assert_eq!(sane_request_id(&ok), Some("abc-123_X.y:z"));
        for bad in ["", "has space", "semi;colon", "quote\""] {
            assert_eq!(
                sane_request_id(&HeaderValue::from_str(bad).unwrap()),
                None,
                "{bad}"
            );
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap();
        assert_eq!(sane_request_id(&long), None);
    }

    #[test]
    fn docs_probes_and_scrapes_are_not_limited() {
        for p in [
            "/health",
            "/metrics",
            "/docs",
            "/docs/index.html",
            "/api-docs/openapi.json",
        ] {
            assert!(exempt(p), "{p}");
        }
        for p in ["/api/v1/campaigns", "/healthz", "/"] {
            assert!(!exempt(p), "{p}");
        }
    }

    #[test]
    fn metrics_register_in_a_registry() {
        let r = Registry::new();
        let m = HttpMetrics::register(&r).unwrap();
        m.observe("GET", "/health", "200", 0.001);
        let names: Vec<String> = r.gather().iter().map(|f| f.name().to_owned()).collect();
        assert!(names.contains(&"adscale_http_requests_total".to_owned()));
        assert!(names.contains(&"adscale_http_request_duration_seconds".to_owned()));
        assert!(
            HttpMetrics::register(&r).is_err(),
            "a second registration must be refused"
        );
    }
}
