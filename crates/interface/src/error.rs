//! The one HTTP mapping of failures: every error a client sees — from a use
//! case ([`AppError`]), from an extractor (bad JSON, bad query or path), from
//! the rate limiter or from routing — leaves as
//! `{"error": true, "message", "code", "details"}` with the right status.
//!
//! Messages are for humans and never carry internal text: causes of 500 and
//! 503 are logged here (inside the request span, so with its `request_id`)
//! and replaced by a fixed sentence.

use std::borrow::Cow;
use std::fmt;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use application::AppError;
use domain::platform::RateDecision;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Largest JSON body accepted (413 above it).
pub const JSON_LIMIT: usize = 256 * 1024;

/// Seconds a client is asked to wait after a 503.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// The error envelope, as documented in the OpenAPI spec.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"error": true, "message": "campaign not found", "code": "CAMPAIGN_NOT_FOUND", "details": {}}))]
pub struct ErrorBody {
    /// Always `true`.
    pub error: bool,
    /// For humans; never internal text.
    pub message: String,
    /// Machine-readable, `UPPER_SNAKE`.
    pub code: String,
    /// Structured context: `fields` for validation errors, `parameter` for bad parameters.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// An HTTP error: status, code, message, details and the headers that go with them.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    details: Map<String, Value>,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
    /// `RateLimit-*` headers.
    rate: Option<RateDecision>,
}

impl ApiError {
    #[must_use]
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            details: Map::new(),
            retry_after: None,
            rate: None,
        }
    }

    /// Adds one entry to `details`.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// 400 `MALFORMED_BODY`: the body is not JSON of the expected shape.
    #[must_use]
    pub fn malformed_body(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_BODY", message)
    }

    /// 400 `INVALID_PARAMETER`, naming the query or path parameter.
    #[must_use]
    pub fn invalid_parameter(parameter: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER",
            format!("parameter `{parameter}` {reason}"),
        )
        .detail("parameter", parameter)
        .detail("reason", reason)
    }

    /// 401 `UNAUTHORIZED`.
    #[must_use]
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 404 `NOT_FOUND` for a path no route matches.
    #[must_use]
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route")
    }

    /// 405 `METHOD_NOT_ALLOWED` for a known path with another method.
    #[must_use]
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "this method is not allowed on this route",
        )
    }

    /// 413 `PAYLOAD_TOO_LARGE`.
    #[must_use]
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body is larger than 256 KiB",
        )
        .detail("limit_bytes", JSON_LIMIT)
    }

    /// 429 `RATE_LIMITED`, with `Retry-After` and the `RateLimit-*` headers.
    #[must_use]
    pub fn rate_limited(d: RateDecision) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests, retry later",
        )
        .detail("limit", d.limit)
        .detail("retry_after_secs", d.reset_secs.max(1));
        e.retry_after = Some(d.reset_secs.max(1));
        e.rate = Some(d);
        e
    }

    /// 500 `INTERNAL_ERROR`; logs `cause` (never shown).
    #[must_use]
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error",
        )
    }

    /// 503 `SERVICE_UNAVAILABLE` with `Retry-After`; logs `cause` (never shown).
    #[must_use]
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "dependency unavailable");
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "a dependency is unavailable, retry shortly",
        );
        e.retry_after = Some(UNAVAILABLE_RETRY_AFTER);
        e
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body this error is sent with.
    #[must_use]
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: true,
            message: self.message.clone().into_owned(),
            code: self.code.clone().into_owned(),
            details: Value::Object(self.details.clone()),
        }
    }

    /// The rate-limit decision carried by a 429.
    #[must_use]
    pub fn rate_decision(&self) -> Option<RateDecision> {
        self.rate
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// Writes `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
pub(crate) fn put_rate_headers(headers: &mut header::HeaderMap, d: &RateDecision) {
    headers.insert(
        header::HeaderName::from_static("ratelimit-limit"),
        HeaderValue::from(d.limit),
    );
    headers.insert(
        header::HeaderName::from_static("ratelimit-remaining"),
        HeaderValue::from(d.remaining),
    );
    headers.insert(
        header::HeaderName::from_static("ratelimit-reset"),
        HeaderValue::from(d.reset_secs),
    );
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, "application/json"));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs));
        }
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| {
            br#"{"error":true,"message":"internal error","code":"INTERNAL_ERROR","details":{}}"#
                .to_vec()
        });
        let mut res = res.body(body);
        if let Some(d) = &self.rate {
            put_rate_headers(res.headers_mut(), d);
        }
        res
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(v) => {
                let fields: Map<String, Value> = v
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "VALIDATION_FAILED",
                    "the request is invalid; see details.fields",
                )
                .detail("fields", Value::Object(fields))
            }
            AppError::NotFound(r) => Self::new(
                StatusCode::NOT_FOUND,
                r.code(),
                format!("{} not found", r.label()),
            ),
            AppError::Unauthorized(m) => Self::unauthorized(m),
            AppError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "your role does not allow this",
            ),
            AppError::Conflict { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            AppError::Unprocessable {
                code,
                message,
                details,
            } => {
                let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
                if let Value::Object(map) = details {
                    for (k, v) in map {
                        e = e.detail(&k, v);
                    }
                }
                e
            }
            AppError::Unavailable(cause) => Self::unavailable(cause),
            AppError::Internal(cause) => Self::internal(cause),
        }
    }
}

impl From<domain::error::ValidationError> for ApiError {
    fn from(e: domain::error::ValidationError) -> Self {
        AppError::Validation(e).into()
    }
}

// ------------------------------------------------------------------ extractors

/// The first `` `name` `` in a serde message (the field or parameter it is about).
fn backticked(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

/// Maps a JSON body failure: too large → 413, anything else → 400 `MALFORMED_BODY`.
#[must_use]
pub fn from_json_error(err: &JsonPayloadError) -> ApiError {
    use actix_web::error::PayloadError;
    match err {
        JsonPayloadError::OverflowKnownLength { .. }
        | JsonPayloadError::Overflow { .. }
        | JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::payload_too_large(),
        JsonPayloadError::ContentType => {
            ApiError::malformed_body("expected a JSON body with Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(e) => {
            let reason = e.to_string();
            let field = if e.is_data() {
                backticked(&reason).map(str::to_owned)
            } else {
                None
            };
            let mut out = ApiError::malformed_body(if e.is_data() {
                "the JSON body does not have the expected shape"
            } else {
                "the request body is not valid JSON"
            })
            .detail("reason", reason);
            if let Some(f) = field {
                out = out.detail("field", f);
            }
            out
        }
        _ => ApiError::malformed_body("could not read the request body"),
    }
}

/// Maps a query-string failure to 400 `INVALID_PARAMETER`.
#[must_use]
pub fn from_query_error(err: &QueryPayloadError) -> ApiError {
    let reason = match err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let name = backticked(&reason).unwrap_or("query").to_owned();
    ApiError::invalid_parameter(&name, "is not valid").detail("reason", reason)
}

/// Maps a path failure to 400 `INVALID_PARAMETER`, naming the first path
/// parameter that is not a UUID (every path parameter here is one).
#[must_use]
pub fn from_path_error(err: &PathError, req: &HttpRequest) -> ApiError {
    let bad = req
        .match_info()
        .iter()
        .find(|(_, v)| uuid::Uuid::parse_str(v).is_err())
        .map(|(k, _)| k.to_owned());
    match bad {
        Some(name) => ApiError::invalid_parameter(&name, "must be a UUID"),
        None => {
            ApiError::invalid_parameter("path", "is not valid").detail("reason", err.to_string())
        }
    }
}

/// JSON bodies: 256 KiB at most, errors in the envelope.
#[must_use]
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_LIMIT)
        .error_handler(|err, _req| from_json_error(&err).into())
}

/// Query strings: errors in the envelope.
#[must_use]
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| from_query_error(&err).into())
}

/// Path parameters: errors in the envelope.
#[must_use]
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| from_path_error(&err, req).into())
}

/// The app's default service: 404 `NOT_FOUND` for unknown routes.
pub(crate) async fn no_route() -> HttpResponse {
    ApiError::no_route().error_response()
}

/// A resource's default service: 405 for a known path with another method.
pub(crate) async fn method_not_allowed() -> HttpResponse {
    ApiError::method_not_allowed().error_response()
}

/// Parses a UUID path or query parameter, naming it when it is not one.
///
/// # Errors
/// 400 `INVALID_PARAMETER`.
pub fn parse_uuid(parameter: &str, value: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(value)
        .map_err(|_| ApiError::invalid_parameter(parameter, "must be a UUID"))
}

/// Parses an unsigned integer query parameter, naming it when it is not one.
///
/// # Errors
/// 400 `INVALID_PARAMETER`.
pub fn parse_u32(parameter: &str, value: Option<&str>) -> Result<Option<u32>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::invalid_parameter(parameter, "must be a non-negative integer")
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use application::Resource;
    use domain::error::ValidationError;
    use serde_json::json;

    async fn body_of(e: &ApiError) -> Value {
        let res = e.error_response();
        serde_json::from_slice(&to_bytes(res.into_body()).await.unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn validation_is_422_with_fields() {
        let e: ApiError =
            AppError::Validation(ValidationError::new("email", "must be a valid e-mail")).into();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = body_of(&e).await;
        assert_eq!(b["error"], json!(true));
        assert_eq!(b["code"], json!("VALIDATION_FAILED"));
        assert_eq!(
            b["details"]["fields"]["email"],
            json!("must be a valid e-mail")
        );
    }

    #[actix_web::test]
    async fn not_found_uses_the_resource_code() {
        let e: ApiError = AppError::NotFound(Resource::Campaign).into();
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        let b = body_of(&e).await;
        assert_eq!(b["code"], json!("CAMPAIGN_NOT_FOUND"));
        assert_eq!(b["message"], json!("campaign not found"));
        assert_eq!(b["details"], json!({}));
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let e: ApiError = AppError::Unauthorized("invalid or expired token").into();
        let res = e.error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
        assert_eq!(e.code(), "UNAUTHORIZED");
    }

    #[test]
    fn forbidden_and_conflict_keep_their_codes() {
        let e: ApiError = AppError::Forbidden.into();
        assert_eq!((e.status(), e.code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
        let e: ApiError =
            AppError::conflict("LAST_OWNER", "an organization must keep at least one owner").into();
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "LAST_OWNER"));
        assert_eq!(e.message(), "an organization must keep at least one owner");
    }

    #[actix_web::test]
    async fn unavailable_and_internal_hide_the_cause() {
        let e: ApiError =
            AppError::Unavailable("pool timed out: SELECT * FROM users".into()).into();
        let res = e.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        let b = body_of(&e).await;
        assert_eq!(b["code"], json!("SERVICE_UNAVAILABLE"));
        assert_eq!(
            b["message"],
            json!("a dependency is unavailable, retry shortly")
        );
        assert!(!b.to_string().contains("SELECT"));

        let e: ApiError = AppError::Internal("syntax error at or near \"FROM\"".into()).into();
        let b = body_of(&e).await;
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(b["code"], json!("INTERNAL_ERROR"));
        assert_eq!(b["message"], json!("internal error"));
        assert!(!b.to_string().contains("FROM"));
    }

    #[test]
    fn rate_limited_sets_retry_after_and_ratelimit_headers() {
        let e = ApiError::rate_limited(RateDecision {
            allowed: false,
            limit: 200,
            remaining: 0,
            reset_secs: 17,
        });
        let res = e.error_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code(), "RATE_LIMITED");
        let h = res.headers();
        assert_eq!(h.get(header::RETRY_AFTER).unwrap(), "17");
        assert_eq!(h.get("ratelimit-limit").unwrap(), "200");
        assert_eq!(h.get("ratelimit-remaining").unwrap(), "0");
        assert_eq!(h.get("ratelimit-reset").unwrap(), "17");
    }

    #[test]
    fn json_errors_are_400_or_413() {
        let too_big = JsonPayloadError::OverflowKnownLength {
            length: 300_000,
            limit: JSON_LIMIT,
        };
        assert_eq!(
            from_json_error(&too_big).status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let e = serde_json::from_str::<Value>("{nope").unwrap_err();
        let m = from_json_error(&JsonPayloadError::Deserialize(e));
        assert_eq!(
            (m.status(), m.code()),
            (StatusCode::BAD_REQUEST, "MALFORMED_BODY")
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Login {
            email: String,
        }
        let e = serde_json::from_str::<Login>("{}").unwrap_err();
        let m = from_json_error(&JsonPayloadError::Deserialize(e));
        assert_eq!(m.body().details["field"], json!("email"));
        let m = from_json_error(&JsonPayloadError::ContentType);
        assert_eq!(m.code(), "MALFORMED_BODY");
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = parse_u32("limit", Some("ten")).unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::BAD_REQUEST, "INVALID_PARAMETER")
        );
        assert_eq!(e.body().details["parameter"], json!("limit"));
        assert_eq!(parse_u32("limit", Some("10")).unwrap(), Some(10));
        assert_eq!(parse_u32("limit", None).unwrap(), None);
        let e = parse_uuid("ad_account_id", "x").unwrap_err();
        assert_eq!(e.body().details["parameter"], json!("ad_account_id"));
    }

    #[test]
    fn finds_backticked_names() {
        assert_eq!(backticked("missing field `email` at line 1"), Some("email"));
        assert_eq!(backticked("no names here"), None);
    }
}
