//! Authentication, done once per request by the [`Edge`] middleware and
//! handed to handlers by the [`Auth`] extractor.
//!
//! Credentials are `Authorization: Bearer <access JWT>` (checked without
//! I/O) or `X-API-Key: <key>` (looked up through a short-lived cache);
//! anything else is 401 `UNAUTHORIZED`. The middleware authenticates as soon
//! as either header is present, because the caller must be known *before*
//! the rate limiter is asked: the per-IP and per-principal limits are counted
//! together, in one limiter call (one Redis script) per request. It leaves
//! the outcome in the request extensions as [`Authenticated`]; the extractor
//! takes it from there, so nothing is authenticated twice. Routes that do not
//! take [`Auth`] (register, login, refresh) ignore the outcome.
//!
//! [`Edge`]: crate::middleware::Edge

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use domain::identity::Actor;
use futures_util::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller. Put it first among a handler's arguments, so
/// that an unauthenticated request is answered 401 before its input is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth(pub Actor);

/// What the middleware found when it authenticated this request.
pub(crate) struct Authenticated(pub(crate) Result<Actor, ApiError>);

pub(crate) const RATE_WINDOW: Duration = Duration::from_secs(60);

const X_API_KEY: &str = "x-api-key";

const MISSING: &str =
    "authentication required: send `Authorization: Bearer <token>` or `X-API-Key`";

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether the request carries credentials at all.
pub(crate) fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || headers.contains_key(X_API_KEY)
}

/// Checks the request's credentials. `Authorization` wins when both are sent.
pub(crate) async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Actor, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let token = v.to_str().ok().and_then(bearer).ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
        return Ok(state.identity.authenticate_token.execute(token)?);
    }
    if let Some(v) = headers.get(X_API_KEY) {
        let key = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("invalid API key"))?;
        return Ok(state.identity.authenticate_key.execute(key.trim()).await?);
    }
    Err(ApiError::unauthorized(MISSING))
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = req.extensions_mut().remove::<Authenticated>();
        let req = req.clone();
        Box::pin(async move {
            let actor = match outcome {
                Some(Authenticated(result)) => result?,
                // The middleware saw no credentials (or did not run).
                None => {
                    let state = req
                        .app_data::<web::Data<AppState>>()
                        .ok_or_else(|| ApiError::internal("AppState is not registered"))?;
                    authenticate(req.headers(), state).await?
                }
            };
            Ok(Auth(actor))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(bearer("Bearer abc.def"), Some("abc.def"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Basic dXNlcjpwdw=="), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn notices_either_credential_header() {
        let mut h = HeaderMap::new();
        assert!(!has_credentials(&h));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert!(has_credentials(&h));
        let mut h = HeaderMap::new();
        h.insert(
            header::HeaderName::from_static(X_API_KEY),
            "ask_x".parse().unwrap(),
        );
        assert!(has_credentials(&h));
    }
}
