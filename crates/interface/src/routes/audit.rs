//! `GET /audit-log`: who changed what, when, with the state before and
//! after; admins and owners only.

use actix_web::{HttpResponse, web};
use domain::audit::AuditFilter;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::page_request;
use crate::auth::Auth;
use crate::dto::audit::{AuditEntryDto, AuditListQuery};
use crate::envelope::{self as env};
use crate::error::{ApiError, parse_uuid};
#[allow(unused_imports)] // referenced by the `#[utoipa::path]` attributes only
use crate::openapi::{AuditEntryListEnvelope, E400, E401, E403, E422, E429, E500, E503};
use crate::state::AppState;

/// An RFC 3339 instant, or a day taken from its first (`from`) or last
/// (`to`) instant in UTC.
fn instant(parameter: &str, value: &str, end_of_day: bool) -> Result<OffsetDateTime, ApiError> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let day = Date::parse(
        value,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        ApiError::invalid_parameter(parameter, "must be an RFC 3339 time or a YYYY-MM-DD date")
    })?;
    let at = if end_of_day {
        Time::MAX
    } else {
        Time::MIDNIGHT
    };
    Ok(day.with_time(at).assume_utc())
}

/// A blank parameter counts as absent.
fn given(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The organization's audit log, newest first (admins and owners). Filters
/// combine: e.g. `entity_id` and `action=suggestion.apply` for the changes
/// rules made to one campaign. A bare user id as `actor` means `user:<id>`.
#[utoipa::path(
    get, path = "/api/v1/audit-log", tag = "audit",
    security(("bearer_auth" = []), ("api_key" = [])),
    params(AuditListQuery),
    responses(
        (status = 200, description = "A page of audit entries", body = AuditEntryListEnvelope),
        E400, E401, E403, E422, E429, E500, E503,
    )
)]
pub async fn list_audit_log(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    q: web::Query<AuditListQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = given(q.actor.as_ref()).map(|a| match parse_uuid("actor", a) {
        Ok(user) => format!("user:{user}"),
        Err(_) => a.to_owned(),
    });
    let filter = AuditFilter {
        entity_type: given(q.entity_type.as_ref()).map(str::to_owned),
        entity_id: given(q.entity_id.as_ref()).map(str::to_owned),
        actor: who,
        action: given(q.action.as_ref()).map(str::to_owned),
        from: given(q.from.as_ref())
            .map(|v| instant("from", v, false))
            .transpose()?,
        to: given(q.to.as_ref())
            .map(|v| instant("to", v, true))
            .transpose()?,
    };
    let page = page_request(q.limit.as_deref(), q.cursor.as_deref())?;
    let items = state
        .audit
        .list_audit_log
        .execute(&actor, filter, page)
        .await?;
    env::page(state.version, items, AuditEntryDto::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_rfc3339_or_whole_days_in_utc() {
        assert_eq!(
            instant("from", "2026-10-01T12:30:00+02:00", false).unwrap(),
            datetime!(2026-10-01 10:30 UTC)
        );
        assert_eq!(
            instant("from", "2026-10-01", false).unwrap(),
            datetime!(2026-10-01 00:00 UTC)
        );
        assert_eq!(
            instant("to", "2026-10-01", true).unwrap(),
            datetime!(2026-10-01 23:59:59.999_999_999 UTC)
        );
        assert!(instant("to", "yesterday", true).is_err());
    }
}
