//! The success envelope: `{"success": true, "data": …, "meta": {"timestamp", "version"}}`;
//! lists add `next_cursor` and `limit` to `meta`.
//!
//! Cached lists (`GET /campaigns`, `GET /ads/top`) arrive as the rendered JSON
//! array of their items; [`cached_list`] writes the envelope around those bytes
//! by concatenation, without parsing or re-serialising them, and says whether
//! they came from the cache in `X-Cache: HIT|MISS`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use application::ads::CachedList;
use domain::page::Page;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::dto::common::format_timestamp;
use crate::error::ApiError;

/// `meta` of a single object.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Meta {
    /// When the response was made, RFC 3339 UTC.
    #[schema(example = "2026-01-02T03:04:05.678Z")]
    pub timestamp: String,
    /// Server version.
    #[schema(example = "0.1.0")]
    pub version: String,
}

/// `meta` of a list page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMeta {
    #[schema(example = "2026-01-02T03:04:05.678Z")]
    pub timestamp: String,
    #[schema(example = "0.1.0")]
    pub version: String,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The page size used.
    #[schema(example = 50)]
    pub limit: u16,
}

/// `{"success": true, "data": T, "meta": …}`. (Its schemas, one per DTO, are
/// in [`crate::openapi`], where `data` refers to the DTO instead of inlining it.)
#[derive(Debug, Serialize)]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
    pub meta: Meta,
}

/// `{"success": true, "data": [T], "meta": {…, "next_cursor", "limit"}}`.
#[derive(Debug, Serialize)]
pub struct ListEnvelope<T> {
    /// Always `true`.
    pub success: bool,
    pub data: Vec<T>,
    pub meta: ListMeta,
}

/// Now, RFC 3339 UTC with millisecond precision.
#[must_use]
pub fn now_timestamp() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_millisecond(now.millisecond()).unwrap_or(now);
    format_timestamp(now)
}

fn meta(version: &str) -> Meta {
    Meta {
        timestamp: now_timestamp(),
        version: version.to_owned(),
    }
}

fn json(mut b: HttpResponseBuilder, body: Vec<u8>) -> HttpResponse {
    b.insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
}

fn enveloped<T: Serialize>(version: &str, data: T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&Envelope {
        success: true,
        data,
        meta: meta(version),
    })
    .map_err(ApiError::internal)
}

/// 200 with `data`.
///
/// # Errors
/// 500 when `data` cannot be serialised (a bug).
pub fn ok<T: Serialize>(version: &str, data: T) -> Result<HttpResponse, ApiError> {
    Ok(json(HttpResponse::Ok(), enveloped(version, data)?))
}

/// 201 with `data` and `Location: location`.
///
/// # Errors
/// 500 when `data` cannot be serialised (a bug).
pub fn created<T: Serialize>(
    version: &str,
    location: &str,
    data: T,
) -> Result<HttpResponse, ApiError> {
    let mut b = HttpResponse::build(StatusCode::CREATED);
    if let Ok(v) = HeaderValue::from_str(location) {
        b.insert_header((header::LOCATION, v));
    }
    Ok(json(b, enveloped(version, data)?))
}

/// 202 with `data` (work accepted, running in the background) and `Location`.
///
/// # Errors
/// 500 when `data` cannot be serialised (a bug).
pub fn accepted<T: Serialize>(
    version: &str,
    location: &str,
    data: T,
) -> Result<HttpResponse, ApiError> {
    let mut b = HttpResponse::build(StatusCode::ACCEPTED);
    if let Ok(v) = HeaderValue::from_str(location) {
        b.insert_header((header::LOCATION, v));
    }
    Ok(json(b, enveloped(version, data)?))
}

/// 204, no body.
#[must_use]
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// 200 with a page of items, each mapped to its DTO.
///
/// # Errors
/// 500 when an item cannot be serialised (a bug).
pub fn page<T, D: Serialize>(
    version: &str,
    page: Page<T>,
    to_dto: impl FnMut(T) -> D,
) -> Result<HttpResponse, ApiError> {
    let body = ListEnvelope {
        success: true,
        data: page.items.into_iter().map(to_dto).collect(),
        meta: ListMeta {
            timestamp: now_timestamp(),
            version: version.to_owned(),
            next_cursor: page.next_cursor,
            limit: page.limit,
        },
    };
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(json(HttpResponse::Ok(), bytes))
}

/// The list envelope around an already rendered JSON array, by concatenation.
/// Produces exactly what serialising a [`ListEnvelope`] of the same items gives.
///
/// # Errors
/// Only if writing a JSON string into memory fails (it does not).
pub fn list_bytes(
    data: &[u8],
    next_cursor: Option<&str>,
    limit: u16,
    timestamp: &str,
    version: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(data.len() + 128 + version.len());
    out.extend_from_slice(br#"{"success":true,"data":"#);
    out.extend_from_slice(data);
    out.extend_from_slice(br#","meta":{"timestamp":"#);
    serde_json::to_writer(&mut out, timestamp)?;
    out.extend_from_slice(br#","version":"#);
    serde_json::to_writer(&mut out, version)?;
    out.extend_from_slice(br#","next_cursor":"#);
    serde_json::to_writer(&mut out, &next_cursor)?;
    out.extend_from_slice(br#","limit":"#);
    serde_json::to_writer(&mut out, &limit)?;
    out.extend_from_slice(b"}}");
    Ok(out)
}

/// 200 with a cached (or freshly rendered) list, and `X-Cache: HIT|MISS`.
///
/// # Errors
/// 500 only if the envelope cannot be written (it cannot).
pub fn cached_list(version: &str, list: &CachedList) -> Result<HttpResponse, ApiError> {
    let body = list_bytes(
        &list.data,
        list.next_cursor.as_deref(),
        list.limit,
        &now_timestamp(),
        version,
    )
    .map_err(ApiError::internal)?;
    let mut b = HttpResponse::Ok();
    b.insert_header((
        HeaderName::from_static("x-cache"),
        HeaderValue::from_static(if list.hit { "HIT" } else { "MISS" }),
    ));
    Ok(json(b, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::ads::CampaignDto;
    use actix_web::body::to_bytes;
    use rust_decimal::Decimal;
    use serde_json::{Value, json};
    use time::macros::datetime;
    use uuid::Uuid;

    fn campaign(name: &str) -> CampaignDto {
        CampaignDto {
            id: Uuid::now_v7(),
            ad_account_id: Uuid::now_v7(),
            external_id: Some("120210000000000001".into()),
            name: name.into(),
            status: crate::dto::ads::EntityStatusDto::Active,
            objective: None,
            daily_budget: Some(Decimal::new(15, 0)),
            lifetime_budget: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn concatenated_list_equals_serde_output() {
        for (items, cursor) in [
            (vec![], None),
            (
                vec![campaign("Summer \"sale\""), campaign("Ação ✓")],
                Some("0190a0b0-0000-7000-8000-000000000000".to_owned()),
            ),
        ] {
            let data = serde_json::to_vec(&items).unwrap();
            let ts = "2026-01-02T03:04:05.678Z";
            let fast = list_bytes(&data, cursor.as_deref(), 50, ts, "0.1.0-\"dev\"").unwrap();
            let slow = serde_json::to_vec(&ListEnvelope {
                success: true,
                data: items,
                meta: ListMeta {
                    timestamp: ts.into(),
                    version: "0.1.0-\"dev\"".into(),
                    next_cursor: cursor,
                    limit: 50,
                },
            })
            .unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
    }

    #[actix_web::test]
    async fn cached_list_marks_hits_and_misses() {
        for hit in [true, false] {
            let list = CachedList {
                data: bytes::Bytes::from_static(b"[1,2]"),
                next_cursor: None,
                limit: 20,
                hit,
            };
            let res = cached_list("1.2.3", &list).unwrap();
            assert_eq!(
                res.headers().get("x-cache").unwrap(),
                if hit { "HIT" } else { "MISS" }
            );
            let v: Value =
                serde_json::from_slice(&to_bytes(res.into_body()).await.unwrap()).unwrap();
            assert_eq!(v["success"], json!(true));
            assert_eq!(v["data"], json!([1, 2]));
            assert_eq!(v["meta"]["limit"], json!(20));
            assert_eq!(v["meta"]["next_cursor"], json!(null));
            assert_eq!(v["meta"]["version"], json!("1.2.3"));
            assert!(v["meta"]["timestamp"].as_str().unwrap().ends_with('Z'));
        }
    }

    #[test]
    fn created_sets_location() {
        let res = created("1", "/api/v1/campaigns/x", json!({"id": "x"})).unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            "/api/v1/campaigns/x"
        );
    }
}
