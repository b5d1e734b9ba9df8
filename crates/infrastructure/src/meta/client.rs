//! The Meta Marketing API (Graph API) adapter behind
//! [`AdsPlatform`]: [`MetaGraphClient`].
//!
//! Owns the HTTP conversation with Graph: building requests (token in the
//! `Authorization` header only, never in a query string), following
//! `paging.next`, running large insights ranges as asynchronous report runs,
//! and surviving Graph's failure modes:
//!
//! - **Throttling** arrives as HTTP 400/403 with codes 4, 17, 32, 613 or
//!   80000–80014. The client waits the time the usage headers announce
//!   (`x-business-use-case-usage` `estimated_time_to_regain_access`, else
//!   `x-ad-account-usage` `reset_time_duration`, else a doubling default),
//!   records the block per ad account in a [`ThrottleStore`] shared by all
//!   workers, and resumes the same request. Usage at or above the configured
//!   threshold on any response blocks the account before the next call.
//!   Longer than [`MetaConfig::max_wait`] → [`PlatformError::RateLimited`].
//! - **Transient failures** (HTTP 5xx, `is_transient`, transport errors) are
//!   retried with jittered exponential backoff, then
//!   [`PlatformError::Unavailable`]. A circuit breaker per client stops
//!   calling after repeated 5xx/transport failures.
//! - **Code 190** → [`PlatformError::AuthExpired`] at once; other refusals →
//!   [`PlatformError::Rejected`]; a body of the wrong shape →
//!   [`PlatformError::Wire`].
//!
//! Values become domain types in [`super::wire`]. Waiting goes through a
//! [`Sleeper`] (which also tells the time), so tests see every wait without
//! sleeping. No token or URL carrying one reaches an error, a log line or a
//! [`RawPage`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use domain::ads::{Currency, DateRange, EntityStatus};
use domain::ingestion::{
    AdsPlatform, FetchedPage, PageToken, PlatformAccount, PlatformAd, PlatformAdSet,
    PlatformCampaign, PlatformError, PlatformInsight, RawPage,
};
use rand::Rng as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::throttle::ThrottleStore;
use super::wire::{self, WireError};
use crate::breaker::Breaker;
use crate::clock::Sleeper;

// ------------------------------------------------------------------ config

/// How the client talks to Graph. [`Default`] holds production values.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaConfig {
    /// Scheme and host (and optional path prefix), e.g. `https://graph.facebook.com`.
    pub base_url: String,
    /// Graph API version, e.g. `v21.0`.
    pub api_version: String,
    /// `limit` of every listing page.
    pub page_limit: u32,
    /// Insights ranges longer than this many days run as async report runs.
    pub async_after_days: i64,
    /// Timeout of one HTTP call.
    pub request_timeout: Duration,
    /// Longest throttling wait one call sits through; beyond it the call
    /// returns [`PlatformError::RateLimited`].
    pub max_wait: Duration,
    /// Retries of a transient failure (so `retries + 1` attempts).
    pub retries: u32,
    /// First backoff step; doubles per retry, jittered (half fixed, half random).
    pub backoff_base: Duration,
    /// Longest backoff step.
    pub backoff_max: Duration,
    /// Wait after a throttling error that carries no usage headers (doubles
    /// per repeated throttling of the same call).
    pub throttle_backoff: Duration,
    /// Utilisation (percent, any usage header) from which the account is
    /// paused before its next call.
    pub usage_threshold_pct: f64,
    /// That pause when the headers carry no reset time.
    pub high_usage_pause: Duration,
    /// First wait between polls of an async report run; doubles per poll.
    pub poll_interval: Duration,
    /// Longest wait between two polls.
    pub poll_interval_max: Duration,
    /// Longest total polling wait before the run counts as unavailable.
    pub max_poll_wait: Duration,
    /// Consecutive 5xx/transport failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the open breaker fails fast before letting one call try.
    pub breaker_cooldown: Duration,
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            base_url: "https://graph.facebook.com".to_owned(),
            api_version: "v21.0".to_owned(),
            page_limit: 500,
            async_after_days: 31,
            request_timeout: Duration::from_secs(120),
            max_wait: Duration::from_secs(15 * 60),
            retries: 4,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            throttle_backoff: Duration::from_secs(60),
            usage_threshold_pct: 90.0,
            high_usage_pause: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            poll_interval_max: Duration::from_secs(60),
            max_poll_wait: Duration::from_secs(30 * 60),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(60),
        }
    }
}

/// The configuration cannot make a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaConfigError {
    #[error("Meta base URL must be an absolute http(s) URL")]
    BaseUrl,
    #[error("Meta API version must look like v21.0")]
    ApiVersion,
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

// ------------------------------------------------------------------ usage headers

/// What the usage headers of one response say.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Usage {
    /// Highest utilisation percentage in any header.
    peak_pct: Option<f64>,
    /// `estimated_time_to_regain_access` (the longest), when above zero.
    regain_access: Option<Duration>,
    /// `reset_time_duration` of `x-ad-account-usage`, when above zero.
    reset_after: Option<Duration>,
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn positive(secs: Option<f64>) -> Option<Duration> {
    secs.filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

impl Usage {
    fn from_headers(headers: &HeaderMap) -> Self {
        let json = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
        };
        let mut u = Self::default();
        let mut pct = |v: Option<&Value>| {
            if let Some(p) = number(v) {
                u.peak_pct = Some(u.peak_pct.map_or(p, |q: f64| q.max(p)));
            }
        };
        let mut regain_minutes: Option<f64> = None;
        // {"<business or account id>": [{type, call_count, total_cputime,
        // total_time, estimated_time_to_regain_access (minutes)}]}
        if let Some(Value::Object(buc)) = json("x-business-use-case-usage") {
            for entries in buc.values() {
                let list = match entries {
                    Value::Array(a) => a.iter().collect::<Vec<_>>(),
                    other => vec![other],
                };
                for e in list {
                    for k in ["call_count", "total_cputime", "total_time"] {
                        pct(e.get(k));
                    }
                    if let Some(m) = number(e.get("estimated_time_to_regain_access")) {
                        regain_minutes = Some(regain_minutes.map_or(m, |r| r.max(m)));
                    }
                }
            }
        }
        let mut reset_secs = None;
        if let Some(acc) = json("x-ad-account-usage") {
            pct(acc.get("acc_id_util_pct"));
            reset_secs = number(acc.get("reset_time_duration"));
        }
        if let Some(ins) = json("x-fb-ads-insights-throttle") {
            pct(ins.get("app_id_util_pct"));
            pct(ins.get("acc_id_util_pct"));
        }
        if let Some(app) = json("x-app-usage") {
            for k in ["call_count", "total_cputime", "total_time"] {
                pct(app.get(k));
            }
        }
        u.regain_access = positive(regain_minutes.map(|m| m * 60.0));
        u.reset_after = positive(reset_secs);
        u
    }

    /// The pause before the next call after a successful (or refused) call:
    /// the announced time to regain access, else at high usage the reset
    /// time (or `high_usage_pause`).
    fn pause(&self, config: &MetaConfig) -> Option<Duration> {
        if self.regain_access.is_some() {
            return self.regain_access;
        }
        let high = self
            .peak_pct
            .is_some_and(|p| p >= config.usage_threshold_pct);
        high.then(|| self.reset_after.unwrap_or(config.high_usage_pause))
    }

    /// The wait after a throttling error, the `repeat`-th of one call.
    fn throttle_wait(&self, config: &MetaConfig, repeat: u32) -> Duration {
        self.regain_access.or(self.reset_after).unwrap_or_else(|| {
            config
                .throttle_backoff
                .saturating_mul(2u32.saturating_pow(repeat.min(16)))
        })
    }
}

// ------------------------------------------------------------------ requests

/// Graph codes that mean "throttled, wait and try again".
fn is_throttle_code(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 613 | 80_000..=80_014)
}

/// One Graph request: a path below the version and its parameters (query
/// string for GET, form body for POST). Never holds a token.
#[derive(Debug, Clone)]
struct Request {
    method: Method,
    /// E.g. `act_123/campaigns` or `<report_run_id>/insights`.
    endpoint: String,
    params: Vec<(String, String)>,
}

impl Request {
    fn new(method: Method, endpoint: String, params: &[(&str, &str)]) -> Self {
        Self {
            method,
            endpoint,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn params_json(&self) -> Value {
        Value::Object(
            self.params
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>(),
        )
    }
}

/// A path made of Graph ids and edge names only (no scheme, host, dots or
/// query), so joining it to the base URL cannot leave the Graph host.
fn valid_endpoint(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains("//")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/'))
}

/// A Graph id (ad account without `act_`, campaign, ad set, ad, report run).
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn refused(message: impl Into<String>) -> PlatformError {
    // Code 0: refused by the adapter before anything was sent.
    PlatformError::Rejected {
        code: 0,
        message: message.into(),
    }
}

fn wire_error(e: &WireError) -> PlatformError {
    PlatformError::Wire(e.to_string())
}

/// The parameters of a URL's query minus any access token.
fn params_without_token(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .filter(|(k, _)| k != "access_token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A page's text without the access token: every `access_token=…` query
/// parameter (Graph puts one in the `paging` URLs) is cut with one of its
/// `&` separators, and any other occurrence of the token is masked. Works on
/// the text so the page is stored as sent, not re-encoded.
fn without_token(text: &str, token: &str) -> String {
    const PARAM: &str = "access_token=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PARAM) {
        let value = &rest[at + PARAM.len()..];
        let end = value.find(['&', '"', '\\', '#']).unwrap_or(value.len());
        let mut before = &rest[..at];
        let mut after = &value[end..];
        if let Some(b) = before.strip_suffix('&') {
            before = b;
        } else if let Some(a) = after.strip_prefix('&') {
            after = a;
        }
        out.push_str(before);
        rest = after;
    }
    out.push_str(rest);
    if !token.is_empty() && out.contains(token) {
        out = out.replace(token, "<redacted>");
    }
    out
}

/// One page as Graph sends it: the rows, still unparsed, and the cursor.
#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(serde::Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<String>,
}

fn redact_str(s: &str, token: &str) -> String {
    if token.is_empty() {
        s.to_owned()
    } else {
        s.replace(token, "<redacted>")
    }
}

/// A short, URL-free description of a transport error.
fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "request timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body could not be read"
    } else {
        "request failed"
    }
}

/// What one HTTP attempt came to.
#[derive(Debug)]
enum Attempt {
    /// A 2xx answer without a Graph error: the body, unparsed.
    Done(Bytes),
    Throttled {
        code: i64,
        wait: Duration,
    },
    /// Worth retrying; `breaker` when it counts against the circuit (5xx, transport).
    Transient {
        what: String,
        breaker: bool,
    },
    Fatal(PlatformError),
}

/// The state of one port call: HTTP calls made and throttling waits sat through.
struct Ctx<'a> {
    account: &'a PlatformAccount,
    /// The ad account id without `act_`.
    account_id: String,
    calls: u32,
    waited: Duration,
}

impl<'a> Ctx<'a> {
    fn new(account: &'a PlatformAccount) -> Result<Self, PlatformError> {
        let id = account
            .external_id
            .trim()
            .strip_prefix("act_")
            .unwrap_or(account.external_id.trim());
        if !valid_id(id) {
            return Err(refused("the ad account id is not a Graph id"));
        }
        Ok(Self {
            account,
            account_id: id.to_owned(),
            calls: 0,
            waited: Duration::ZERO,
        })
    }
}

// ------------------------------------------------------------------ client

const CAMPAIGN_FIELDS: &str =
    "id,name,status,effective_status,objective,daily_budget,lifetime_budget";
const AD_SET_FIELDS: &str =
    "id,name,status,effective_status,campaign_id,daily_budget,lifetime_budget,optimization_goal";
const AD_FIELDS: &str =
    "id,name,status,effective_status,campaign_id,adset_id,creative{id,name},targeting";
const INSIGHT_FIELDS: &str = "date_start,date_stop,account_id,campaign_id,adset_id,ad_id,impressions,clicks,inline_link_clicks,spend,actions,action_values,cost_per_action_type";
const REPORT_STATUS_FIELDS: &str = "async_status,async_percent_completion";

/// The Graph API adapter: one per process (or per worker), shared by every
/// ad account; the breaker is per client, throttling blocks are per account
/// in the [`ThrottleStore`].
pub struct MetaGraphClient {
    http: reqwest::Client,
    config: MetaConfig,
    /// `<base_url>/<version>/`; every request is a relative path below it.
    root: Url,
    throttle: Arc<dyn ThrottleStore>,
    sleeper: Arc<dyn Sleeper>,
    breaker: Breaker,
}

impl std::fmt::Debug for MetaGraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaGraphClient")
            .field("root", &self.root.as_str())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MetaGraphClient {
    /// # Errors
    /// An invalid base URL or API version, or an HTTP client that cannot be built.
    pub fn new(
        config: MetaConfig,
        throttle: Arc<dyn ThrottleStore>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, MetaConfigError> {
        let version = config.api_version.trim();
        if version.is_empty()
            || !version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        {
            return Err(MetaConfigError::ApiVersion);
        }
        let root = Url::parse(&format!(
            "{}/{version}/",
            config.base_url.trim().trim_end_matches('/')
        ))
        .map_err(|_| MetaConfigError::BaseUrl)?;
        if !matches!(root.scheme(), "http" | "https") || root.host().is_none() {
            return Err(MetaConfigError::BaseUrl);
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| MetaConfigError::Http(e.without_url().to_string()))?;
        let breaker = Breaker::new(
            "Meta Graph API",
            config.breaker_threshold,
            config.breaker_cooldown,
        );
        Ok(Self {
            http,
            config,
            root,
            throttle,
            sleeper,
            breaker,
        })
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    // -------------------------------------------------------------- one request

    /// Sends `req` until it succeeds or fails for good: waits for the
    /// account's throttling block, retries transient failures with backoff,
    /// waits out throttling errors (up to `max_wait` in all) and counts every
    /// HTTP call in `ctx`.
    async fn call(&self, ctx: &mut Ctx<'_>, req: &Request) -> Result<Bytes, PlatformError> {
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            self.wait_unblocked(ctx).await?;
            if !self.breaker.allow(self.sleeper.now()) {
                return Err(PlatformError::Unavailable("circuit open".into()));
            }
            ctx.calls = ctx.calls.saturating_add(1);
            match self.attempt(ctx, req, throttled).await {
                Attempt::Done(body) => {
                    self.breaker.success();
                    return Ok(body);
                }
                Attempt::Fatal(e) => {
                    self.breaker.success();
                    return Err(e);
                }
                Attempt::Throttled { code, wait } => {
                    self.breaker.success();
                    let until = self.sleeper.now() + wait;
                    self.throttle.block(&ctx.account_id, until).await;
                    if ctx.waited.saturating_add(wait) > self.config.max_wait {
                        tracing::warn!(
                            endpoint = %req.endpoint,
                            code,
                            wait_secs = wait.as_secs(),
                            "Meta throttled the ad account for longer than we wait"
                        );
                        return Err(PlatformError::RateLimited { retry_after: wait });
                    }
                    tracing::info!(
                        endpoint = %req.endpoint,
                        code,
                        wait_secs = wait.as_secs(),
                        "Meta throttled the ad account; waiting"
                    );
                    self.sleeper.sleep(wait).await;
                    ctx.waited = ctx.waited.saturating_add(wait);
                    throttled = throttled.saturating_add(1);
                }
                Attempt::Transient { what, breaker } => {
                    if breaker {
                        self.breaker.failure(self.sleeper.now(), &what);
                    }
                    if failures >= self.config.retries {
                        return Err(PlatformError::Unavailable(format!(
                            "{what} (after {} attempts)",
                            failures.saturating_add(1)
                        )));
                    }
                    let pause = self.backoff(failures);
                    tracing::warn!(
                        endpoint = %req.endpoint,
                        error = %what,
                        attempt = failures.saturating_add(1),
                        backoff_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        "Meta call failed; retrying"
                    );
                    self.sleeper.sleep(pause).await;
                    failures = failures.saturating_add(1);
                }
            }
        }
    }

    /// Waits until the account's block (if any) is over; a block longer than
    /// what is left of `max_wait` is returned as `RateLimited` instead.
    /// [`Self::call`] for a small JSON answer (report runs, updates).
    async fn call_json(&self, ctx: &mut Ctx<'_>, req: &Request) -> Result<Value, PlatformError> {
        let bytes = self.call(ctx, req).await?;
        serde_json::from_slice(&bytes)
            .map_err(|_| PlatformError::Wire("the response is not JSON".into()))
    }

    async fn wait_unblocked(&self, ctx: &mut Ctx<'_>) -> Result<(), PlatformError> {
        let Some(until) = self.throttle.blocked_until(&ctx.account_id).await else {
            return Ok(());
        };
        let Ok(left) = until.duration_since(self.sleeper.now()) else {
            return Ok(());
        };
        if left.is_zero() {
            return Ok(());
        }
        if ctx.waited.saturating_add(left) > self.config.max_wait {
            return Err(PlatformError::RateLimited { retry_after: left });
        }
        tracing::debug!(wait_ms = ?left.as_millis(), "ad account throttled; waiting before the call");
        self.sleeper.sleep(left).await;
        ctx.waited = ctx.waited.saturating_add(left);
        Ok(())
    }

    /// Jittered exponential backoff: half of `base × 2^n` (capped) fixed,
    /// half random.
    fn backoff(&self, n: u32) -> Duration {
        let step = self
            .config
            .backoff_base
            .saturating_mul(2u32.saturating_pow(n.min(16)))
            .min(self.config.backoff_max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }

    /// One HTTP call and what it came to (`throttled`: throttling errors
    /// this request already waited out). Usage headers are read on every
    /// response; high usage blocks the account before its next call.
    async fn attempt(&self, ctx: &Ctx<'_>, req: &Request, throttled: u32) -> Attempt {
        let token = ctx.account.token.expose();
        let Ok(mut url) = self.root.join(&req.endpoint) else {
            return Attempt::Fatal(refused("the request path is not a Graph path"));
        };
        let Ok(mut auth) = HeaderValue::from_str(&format!("Bearer {token}")) else {
            return Attempt::Fatal(refused("the access token is not a valid header value"));
        };
        auth.set_sensitive(true);
        let is_get = req.method == Method::GET;
        if is_get && !req.params.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.params);
        }
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .header(AUTHORIZATION, auth);
        if !is_get {
            // The form body, encoded like a query string.
            let mut form = self.root.clone();
            form.query_pairs_mut().clear().extend_pairs(&req.params);
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.query().unwrap_or_default().to_owned());
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Transient {
                    what: describe(&e).to_owned(),
                    breaker: true,
                };
            }
        };
        let status = response.status();
        let usage = Usage::from_headers(response.headers());
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Transient {
                    what: describe(&e).to_owned(),
                    breaker: true,
                };
            }
        };
        let outcome = classify(
            status,
            &bytes,
            token,
            usage.throttle_wait(&self.config, throttled),
        );
        if !matches!(outcome, Attempt::Throttled { .. })
            && let Some(pause) = usage.pause(&self.config)
        {
            tracing::info!(
                endpoint = %req.endpoint,
                peak_pct = ?usage.peak_pct,
                pause_secs = pause.as_secs(),
                "Meta usage is high; pausing the ad account"
            );
            self.throttle
                .block(&ctx.account_id, self.sleeper.now() + pause)
                .await;
        }
        outcome
    }

    // -------------------------------------------------------------- pages

    /// One page of any listing: calls, converts every `data` row with
    /// `parse`, turns `paging.next` into the next [`PageToken`] and keeps the
    /// body (token-free) as the [`RawPage`].
    async fn fetch_page<T>(
        &self,
        ctx: &mut Ctx<'_>,
        req: Request,
        parse: impl Fn(&RawValue) -> Result<T, WireError>,
    ) -> Result<FetchedPage<T>, PlatformError> {
        let bytes = self.call(ctx, &req).await?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| PlatformError::Wire("the page is not UTF-8 text".into()))?;
        let body = without_token(text, ctx.account.token.expose());
        let (items, next) = {
            let page: Page<'_> = serde_json::from_str(&body)
                .map_err(|e| PlatformError::Wire(format!("the page is not a Graph page ({e})")))?;
            let items = page
                .data
                .into_iter()
                .map(parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| wire_error(&e))?;
            let next = match page.paging.and_then(|p| p.next) {
                Some(url) => Some(self.next_token(&url)?),
                None => None,
            };
            (items, next)
        };
        Ok(FetchedPage {
            items,
            raw: RawPage {
                endpoint: req.endpoint.clone(),
                params: req.params_json(),
                body,
                fetched_at: OffsetDateTime::from(self.sleeper.now()),
            },
            next,
            api_calls: ctx.calls,
        })
    }

    /// `paging.next` as a token: the path below the version plus the query
    /// without `access_token` (`act_1/campaigns?fields=…&after=…`). Only the
    /// path and query are kept: the next page goes to the configured host.
    fn next_token(&self, next: &str) -> Result<PageToken, PlatformError> {
        let url = Url::parse(next)
            .map_err(|_| PlatformError::Wire("`paging.next` is not a URL".into()))?;
        let path = url.path();
        let endpoint = path.strip_prefix(self.root.path()).unwrap_or_else(|| {
            let p = path.trim_start_matches('/');
            match p.split_once('/') {
                Some((v, rest))
                    if v.starts_with('v')
                        && v.len() > 1
                        && v[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
                {
                    rest
                }
                _ => p,
            }
        });
        if !valid_endpoint(endpoint) {
            return Err(PlatformError::Wire(
                "`paging.next` is not a Graph path".into(),
            ));
        }
        let params = params_without_token(&url);
        let mut query = self.root.clone();
        query.query_pairs_mut().clear().extend_pairs(&params);
        Ok(PageToken(match query.query() {
            Some(q) if !q.is_empty() => format!("{endpoint}?{q}"),
            _ => endpoint.to_owned(),
        }))
    }

    /// The request a [`PageToken`] stands for.
    fn request_from_token(&self, token: &PageToken) -> Result<Request, PlatformError> {
        let (endpoint, query) = token.0.split_once('?').unwrap_or((&token.0, ""));
        if !valid_endpoint(endpoint) {
            return Err(PlatformError::Wire(
                "the page token is not a Graph path".into(),
            ));
        }
        let mut url = self.root.clone();
        url.set_query(Some(query));
        Ok(Request {
            method: Method::GET,
            endpoint: endpoint.to_owned(),
            params: params_without_token(&url),
        })
    }

    /// A listing of the account's `edge` (campaigns, adsets, ads): the first
    /// page, or the one `next` points at.
    async fn listing<T>(
        &self,
        account: &PlatformAccount,
        edge: &str,
        fields: &str,
        next: Option<PageToken>,
        parse: impl Fn(&RawValue) -> Result<T, WireError>,
    ) -> Result<FetchedPage<T>, PlatformError> {
        let mut ctx = Ctx::new(account)?;
        let req = match next {
            Some(t) => self.request_from_token(&t)?,
            None => Request::new(
                Method::GET,
                format!("act_{}/{edge}", ctx.account_id),
                &[
                    ("fields", fields),
                    ("limit", &self.config.page_limit.to_string()),
                ],
            ),
        };
        self.fetch_page(&mut ctx, req, parse).await
    }

    // -------------------------------------------------------------- async reports

    /// Starts an async insights report run and polls it until it completes;
    /// returns its id.
    async fn run_report(
        &self,
        ctx: &mut Ctx<'_>,
        params: &[(&str, &str)],
    ) -> Result<String, PlatformError> {
        let start = Request::new(
            Method::POST,
            format!("act_{}/insights", ctx.account_id),
            params,
        );
        let created = self.call_json(ctx, &start).await?;
        let run = match created.get("report_run_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(PlatformError::Wire(
                    "the report run has no `report_run_id`".into(),
                ));
            }
        };
        if !valid_id(&run) {
            return Err(PlatformError::Wire(
                "`report_run_id` is not a Graph id".into(),
            ));
        }
        let poll = Request::new(
            Method::GET,
            run.clone(),
            &[("fields", REPORT_STATUS_FIELDS)],
        );
        let mut interval = self.config.poll_interval;
        let mut polled = Duration::ZERO;
        loop {
            let status = self.call_json(ctx, &poll).await?;
            let state = status
                .get("async_status")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    PlatformError::Wire("the report run has no `async_status`".into())
                })?;
            let percent = number(status.get("async_percent_completion")).unwrap_or(0.0);
            match state {
                // 100 % without "Job Completed" is not done yet.
                "Job Completed" if percent >= 100.0 => return Ok(run),
                "Job Failed" | "Job Skipped" => {
                    return Err(PlatformError::Unavailable(format!(
                        "the insights report run ended with \"{state}\""
                    )));
                }
                _ => {}
            }
            if polled.saturating_add(interval) > self.config.max_poll_wait {
                return Err(PlatformError::Unavailable(format!(
                    "the insights report run did not complete within {}s",
                    self.config.max_poll_wait.as_secs()
                )));
            }
            self.sleeper.sleep(interval).await;
            polled = polled.saturating_add(interval);
            interval = interval
                .saturating_mul(2)
                .min(self.config.poll_interval_max.max(self.config.poll_interval));
        }
    }

    // -------------------------------------------------------------- writes

    /// `POST /<id>` with one field; Graph answers `{"success": true}`.
    async fn update(
        &self,
        account: &PlatformAccount,
        external_id: &str,
        field: &str,
        value: &str,
    ) -> Result<(), PlatformError> {
        let mut ctx = Ctx::new(account)?;
        let id = external_id.trim();
        if !valid_id(id) {
            return Err(refused("the object id is not a Graph id"));
        }
        let req = Request::new(Method::POST, id.to_owned(), &[(field, value)]);
        let body = self.call_json(&mut ctx, &req).await?;
        match body.get("success").and_then(Value::as_bool) {
            Some(true) => Ok(()),
            _ => Err(PlatformError::Wire(
                "the update was not acknowledged (`success` is not true)".into(),
            )),
        }
    }
}

/// An amount in the currency's minor units (`150.00` BRL → `15000`).
fn minor_units(amount: Decimal, currency: Currency) -> Result<i64, PlatformError> {
    let digits = currency.minor_units();
    let invalid = || {
        refused(format!(
            "a daily budget must be above zero with at most {digits} decimal places in {}",
            currency.as_str()
        ))
    };
    let minor = amount
        .checked_mul(Decimal::from(10i64.pow(digits)))
        .ok_or_else(invalid)?;
    if minor <= Decimal::ZERO || !minor.fract().is_zero() {
        return Err(invalid());
    }
    i64::try_from(minor.trunc()).map_err(|_| invalid())
}

/// What one response says, from its status and body. `throttle_wait` is the
/// wait should it be a throttling error (from the response's usage headers).
fn classify(status: StatusCode, bytes: &Bytes, token: &str, throttle_wait: Duration) -> Attempt {
    // The common case, without parsing (or copying) the page here: a 2xx
    // that is not Graph's `{"error": …}` envelope.
    if status.is_success() && !starts_with_error(bytes) {
        return Attempt::Done(bytes.clone());
    }
    let body = serde_json::from_slice::<Value>(bytes).ok();
    let error = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .filter(|e| e.is_object());
    if error.is_none() && status.is_success() {
        return Attempt::Done(bytes.clone());
    }
    match (error, body.as_ref()) {
        (Some(error), _) => classify_error(status, error, token, throttle_wait),
        (None, _) if status.is_server_error() => Attempt::Transient {
            what: format!("HTTP {}", status.as_u16()),
            breaker: true,
        },
        (None, _) if status == StatusCode::TOO_MANY_REQUESTS => Attempt::Throttled {
            code: 429,
            wait: throttle_wait,
        },
        (None, None) if status.is_success() => {
            Attempt::Fatal(PlatformError::Wire("the response is not JSON".into()))
        }
        (None, _) => Attempt::Fatal(PlatformError::Wire(format!(
            "HTTP {} without a Graph error body",
            status.as_u16()
        ))),
    }
}

/// Whether a body opens with an `"error"` member, as Graph's error envelope
/// does (`{"error": {…}}`).
fn starts_with_error(bytes: &[u8]) -> bool {
    let mut rest = bytes.trim_ascii_start();
    let Some(r) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest = r.trim_ascii_start();
    rest.starts_with(b"\"error\"")
}

fn classify_error(
    status: StatusCode,
    error: &Value,
    token: &str,
    throttle_wait: Duration,
) -> Attempt {
    let code = match error.get("code") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    let transient = error
        .get("is_transient")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let message = redact_str(
        error.get("message").and_then(Value::as_str).unwrap_or(""),
        token,
    );
    if code == 190 {
        return Attempt::Fatal(PlatformError::AuthExpired);
    }
    if is_throttle_code(code) {
        return Attempt::Throttled {
            code,
            wait: throttle_wait,
        };
    }
    if status.is_server_error() {
        return Attempt::Transient {
            what: format!("HTTP {} (code {code})", status.as_u16()),
            breaker: true,
        };
    }
    if transient || matches!(code, 1 | 2) {
        return Attempt::Transient {
            what: format!("transient Graph error (code {code})"),
            breaker: false,
        };
    }
    Attempt::Fatal(PlatformError::Rejected { code, message })
}

#[async_trait]
impl AdsPlatform for MetaGraphClient {
    async fn campaigns(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformCampaign>, PlatformError> {
        let currency = account.currency;
        self.listing(account, "campaigns", CAMPAIGN_FIELDS, next, |v| {
            wire::campaign(v, currency)
        })
        .await
    }

    async fn ad_sets(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformAdSet>, PlatformError> {
        let currency = account.currency;
        self.listing(account, "adsets", AD_SET_FIELDS, next, |v| {
            wire::ad_set(v, currency)
        })
        .await
    }

    async fn ads(
        &self,
        account: &PlatformAccount,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformAd>, PlatformError> {
        self.listing(account, "ads", AD_FIELDS, next, wire::ad)
            .await
    }

    async fn insights(
        &self,
        account: &PlatformAccount,
        range: DateRange,
        next: Option<PageToken>,
    ) -> Result<FetchedPage<PlatformInsight>, PlatformError> {
        let mut ctx = Ctx::new(account)?;
        let parse = |v: &RawValue| wire::insight(v, account.currency, &account.result_action);
        let limit = self.config.page_limit.to_string();
        let req = match next {
            Some(t) => self.request_from_token(&t)?,
            None => {
                let time_range = serde_json::json!({
                    "since": range.from().to_string(),
                    "until": range.to().to_string(),
                })
                .to_string();
                // No action_attribution_windows: the account's default attribution.
                let params = [
                    ("level", "ad"),
                    ("time_increment", "1"),
                    ("time_range", time_range.as_str()),
                    ("fields", INSIGHT_FIELDS),
                    ("limit", limit.as_str()),
                ];
                let days = (range.to() - range.from()).whole_days().saturating_add(1);
                if days > self.config.async_after_days {
                    let run = self.run_report(&mut ctx, &params).await?;
                    Request::new(Method::GET, format!("{run}/insights"), &[("limit", &limit)])
                } else {
                    Request::new(
                        Method::GET,
                        format!("act_{}/insights", ctx.account_id),
                        &params,
                    )
                }
            }
        };
        self.fetch_page(&mut ctx, req, parse).await
    }

    async fn set_status(
        &self,
        account: &PlatformAccount,
        external_id: &str,
        status: EntityStatus,
    ) -> Result<(), PlatformError> {
        let value = match status {
            EntityStatus::Active | EntityStatus::Paused => status.as_str(),
            EntityStatus::Archived | EntityStatus::Deleted => {
                return Err(refused(format!(
                    "only ACTIVE or PAUSED can be set, not {}",
                    status.as_str()
                )));
            }
        };
        self.update(account, external_id, "status", value).await
    }

    async fn set_daily_budget(
        &self,
        account: &PlatformAccount,
        external_id: &str,
        amount: Decimal,
    ) -> Result<(), PlatformError> {
        let minor = minor_units(amount, account.currency)?;
        self.update(account, external_id, "daily_budget", &minor.to_string())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn page_text_loses_the_token_parameter_and_any_other_copy() {
        let page = r#"{"data":[{"id":"1","name":"tok-123"}],"paging":{"next":"https:\/\/graph.facebook.com\/v21.0\/act_1\/insights?access_token=tok-123&limit=500&after=QQ","previous":"https://x/y?limit=5&access_token=tok-123"}}"#;
        let clean = without_token(page, "tok-123");
        assert_eq!(
            clean,
            r#"{"data":[{"id":"1","name":"<redacted>"}],"paging":{"next":"https:\/\/graph.facebook.com\/v21.0\/act_1\/insights?limit=500&after=QQ","previous":"https://x/y?limit=5"}}"#
        );
        // A token encoded differently in the URL still goes with its parameter.
        assert_eq!(
            without_token(r#"{"next":"h?access_token=a%2Fb"}"#, "a/b"),
            r#"{"next":"h?"}"#
        );
        assert_eq!(without_token(r#"{"data":[]}"#, "zzz"), r#"{"data":[]}"#);
    }

    #[test]
    fn only_a_graph_error_envelope_is_parsed_on_success() {
        assert!(starts_with_error(br#" { "error": {"code": 1}}"#));
        assert!(!starts_with_error(br#"{"data": [{"error": 1}]}"#));
        assert!(!starts_with_error(b"[]"));
    }

    #[test]
    fn usage_headers_give_peak_regain_and_reset() {
        let u = Usage::from_headers(&headers(&[
            (
                "x-business-use-case-usage",
                r#"{"1":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0}],"2":[{"call_count":97,"estimated_time_to_regain_access":2}]}"#,
            ),
            (
                "x-ad-account-usage",
                r#"{"acc_id_util_pct":9.67,"reset_time_duration":100}"#,
            ),
        ]));
        assert_eq!(u.peak_pct, Some(97.0));
        assert_eq!(u.regain_access, Some(Duration::from_secs(120)));
        assert_eq!(u.reset_after, Some(Duration::from_secs(100)));
        assert_eq!(Usage::from_headers(&HeaderMap::new()), Usage::default());
        let garbage = Usage::from_headers(&headers(&[("x-ad-account-usage", "not json")]));
        assert_eq!(garbage, Usage::default());
    }

    #[test]
    fn pause_only_at_high_usage_or_when_access_is_lost() {
        let c = MetaConfig::default();
        let low = Usage {
            peak_pct: Some(50.0),
            reset_after: Some(Duration::from_secs(100)),
            ..Usage::default()
        };
        assert_eq!(low.pause(&c), None);
        let high = Usage {
            peak_pct: Some(90.0),
            ..low
        };
        assert_eq!(high.pause(&c), Some(Duration::from_secs(100)));
        let high_no_reset = Usage {
            reset_after: None,
            ..high
        };
        assert_eq!(high_no_reset.pause(&c), Some(c.high_usage_pause));
        assert_eq!(
            Usage::default().throttle_wait(&c, 2),
            c.throttle_backoff * 4
        );
    }

    #[test]
    fn budgets_go_out_in_minor_units() {
        let brl = Currency::parse("BRL").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(minor_units(Decimal::new(15000, 2), brl), Ok(15000));
        assert_eq!(minor_units(Decimal::from(1500), jpy), Ok(1500));
        assert!(minor_units(Decimal::new(1505, 3), brl).is_err());
        assert!(minor_units(Decimal::ZERO, brl).is_err());
        assert!(minor_units(Decimal::new(-100, 2), brl).is_err());
    }

    #[test]
    fn endpoints_and_ids_cannot_leave_graph() {
        assert!(valid_endpoint("act_1/campaigns"));
        assert!(!valid_endpoint("//evil.example/x"));
        assert!(!valid_endpoint("https://evil.example"));
        assert!(!valid_endpoint("../x"));
        assert!(valid_id("120208325579370399"));
        assert!(!valid_id("1/2"));
    }
}
