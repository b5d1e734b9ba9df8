//! What each alert says. Pure functions from the event to an [`Alert`] whose
//! title and body a marketer can act on (which campaign, which rule, why,
//! what change) and whose `data` carries the same facts for machines.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Alert, AlertKind, Severity};
use crate::analysis::anomaly::{Anomaly, Direction};
use crate::ids::{AdAccountId, TenantId};
use crate::ingestion::SyncRun;
use crate::rules::{Proposal, RuleLevel, Suggestion};

/// `1234.5` → `1,234.50`.
fn money(v: Decimal) -> String {
    let mut r = v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    let text = r.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if r.is_sign_negative() && !r.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{frac}")
}

const fn level_words(level: RuleLevel) -> &'static str {
    match level {
        RuleLevel::Campaign => "campaign",
        RuleLevel::AdSet => "ad set",
        RuleLevel::Ad => "ad",
    }
}

/// "pause the campaign" / "raise the daily budget from 100.00 to 120.00".
fn proposal_words(s: &Suggestion) -> String {
    let level = level_words(s.level);
    match s.proposal {
        Proposal::Pause => format!("pause the {level}"),
        Proposal::Notify => "no change (for your information)".to_owned(),
        Proposal::Budget { from, to } => {
            let verb = if to >= from { "raise" } else { "lower" };
            format!(
                "{verb} the daily budget from {} to {}",
                money(from),
                money(to)
            )
        }
    }
}

fn proposal_json(p: Proposal) -> Value {
    match p {
        Proposal::Budget { from, to } => json!({"from": money_plain(from), "to": money_plain(to)}),
        Proposal::Pause | Proposal::Notify => Value::Null,
    }
}

/// `1234.5` → `"1234.50"` (the API's money format).
fn money_plain(v: Decimal) -> String {
    let mut r = v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r.to_string()
}

fn suggestion_data(s: &Suggestion, rule_name: &str) -> Value {
    json!({
        "suggestion_id": s.id.to_string(),
        "rule_id": s.rule_id.to_string(),
        "rule_version": s.rule_version,
        "rule_name": rule_name,
        "entity_id": s.entity_id.to_string(),
        "entity_name": s.entity_name,
        "level": s.level.as_str(),
        "action": s.action.kind_str(),
        "proposed": proposal_json(s.proposal),
        "window": {"from": s.window.from().to_string(), "to": s.window.to().to_string()},
        "reason": s.reason,
    })
}

fn new_alert(
    tenant_id: TenantId,
    kind: AlertKind,
    severity: Severity,
    title: String,
    body: String,
    data: Value,
    at: OffsetDateTime,
) -> Alert {
    Alert {
        id: Uuid::now_v7(),
        tenant_id,
        kind,
        severity,
        title,
        body,
        data,
        created_at: at,
    }
}

impl Alert {
    /// A rule made a suggestion: which entity, which rule, why and the
    /// proposed change. Pausing is a warning; budget changes and notices are
    /// information.
    #[must_use]
    pub fn suggestion_created(s: &Suggestion, rule_name: &str) -> Self {
        let level = level_words(s.level);
        let (severity, title) = match s.proposal {
            Proposal::Pause => (
                Severity::Warning,
                format!("Suggestion: pause {level} \"{}\"", s.entity_name),
            ),
            Proposal::Budget { .. } => (
                Severity::Info,
                format!(
                    "Suggestion: {} for {level} \"{}\"",
                    proposal_words(s),
                    s.entity_name
                ),
            ),
            Proposal::Notify => (
                Severity::Info,
                format!(
                    "Rule \"{rule_name}\" fired for {level} \"{}\"",
                    s.entity_name
                ),
            ),
        };
        let body = format!(
            "Rule \"{rule_name}\" (version {}) fired for {level} \"{}\".\n\
             Why: {}\n\
             Window: {} to {}\n\
             Proposed: {}.\n\
             Review it in AdScale (suggestion {}).",
            s.rule_version,
            s.entity_name,
            s.reason,
            s.window.from(),
            s.window.to(),
            proposal_words(s),
            s.id,
        );
        new_alert(
            s.tenant_id,
            AlertKind::SuggestionCreated,
            severity,
            title,
            body,
            suggestion_data(s, rule_name),
            s.created_at,
        )
    }

    /// A scheduled report is ready: which one, for what (`covers`: the ad
    /// account's name, or the organization's scope) and days, and where to
    /// download it (`download_url`, behind sign-in).
    #[must_use]
    pub fn report_ready(
        report: &crate::report_jobs::Report,
        covers: &str,
        period: crate::ads::DateRange,
        download_url: &str,
        at: OffsetDateTime,
    ) -> Self {
        let days = if period.from() == period.to() {
            period.from().to_string()
        } else {
            format!("{} to {}", period.from(), period.to())
        };
        let file = report.file_name.clone().unwrap_or_default();
        let title = format!(
            "{} report ready: {covers} ({days})",
            capitalised(report.kind.as_str())
        );
        let body = format!(
            "The {} report of \"{covers}\" for {days} is ready ({}).\n\
             Download: {download_url}\n\
             File: {file}",
            report.kind,
            report.format.as_str().to_uppercase(),
        );
        new_alert(
            report.tenant_id,
            AlertKind::ReportReady,
            Severity::Info,
            title,
            body,
            json!({
                "report_id": report.id.to_string(),
                "scope": report.scope.name(),
                "ad_account_id": report.scope.ad_account_id().map(|id| id.to_string()),
                "currency": report.scope.currency().map(|c| c.as_str().to_owned()),
                "kind": report.kind.as_str(),
                "format": report.format.as_str(),
                "from": period.from().to_string(),
                "to": period.to().to_string(),
                "file_name": file,
                "download_url": download_url,
            }),
            at,
        )
    }

    /// A suggestion's change was applied on the ad platform.
    #[must_use]
    pub fn action_applied(s: &Suggestion, rule_name: &str, at: OffsetDateTime) -> Self {
        let level = level_words(s.level);
        let title = format!(
            "Applied: {} of {level} \"{}\"",
            action_noun(s),
            s.entity_name
        );
        let body = format!(
            "AdScale applied the suggestion of rule \"{rule_name}\" to {level} \"{}\": {}.\n\
             Why: {}\n\
             Suggestion {}.",
            s.entity_name,
            proposal_words(s),
            s.reason,
            s.id,
        );
        new_alert(
            s.tenant_id,
            AlertKind::ActionApplied,
            Severity::Info,
            title,
            body,
            suggestion_data(s, rule_name),
            at,
        )
    }

    /// Applying a suggestion's change on the ad platform failed; `error` is
    /// the platform's reason as shown to people.
    #[must_use]
    pub fn action_failed(s: &Suggestion, rule_name: &str, error: &str, at: OffsetDateTime) -> Self {
        let level = level_words(s.level);
        let title = format!(
            "Could not apply: {} of {level} \"{}\"",
            action_noun(s),
            s.entity_name
        );
        let body = format!(
            "AdScale could not {} of {level} \"{}\" (rule \"{rule_name}\").\n\
             Error: {error}\n\
             Nothing was changed on the platform; the rule suggests again for its next window if it still fires.\n\
             Suggestion {}.",
            proposal_words(s),
            s.entity_name,
            s.id,
        );
        let mut data = suggestion_data(s, rule_name);
        if let Some(o) = data.as_object_mut() {
            o.insert("error".to_owned(), json!(error));
        }
        new_alert(
            s.tenant_id,
            AlertKind::ActionFailed,
            Severity::Critical,
            title,
            body,
            data,
            at,
        )
    }

    /// A sync run ended failed (after its retries).
    #[must_use]
    pub fn sync_failed(run: &SyncRun, account_name: &str, error: &str, at: OffsetDateTime) -> Self {
        let title = format!("Sync failed for ad account \"{account_name}\"");
        let body = format!(
            "The {} sync of ad account \"{account_name}\" for {} to {} failed after {} attempt(s).\n\
             Error: {error}\n\
             KPIs and suggestions for this account may be out of date until a sync succeeds.\n\
             Sync run {}.",
            run.kind.as_str(),
            run.range.from(),
            run.range.to(),
            run.attempts.max(1),
            run.id,
        );
        let data = json!({
            "sync_run_id": run.id.to_string(),
            "ad_account_id": run.ad_account_id.to_string(),
            "ad_account_name": account_name,
            "kind": run.kind.as_str(),
            "range": {"from": run.range.from().to_string(), "to": run.range.to().to_string()},
            "attempts": run.attempts,
            "error": error,
        });
        new_alert(
            run.tenant_id,
            AlertKind::SyncFailed,
            Severity::Warning,
            title,
            body,
            data,
            at,
        )
    }

    /// The platform token of an ad account expired or was revoked: syncing
    /// stopped until someone reconnects it.
    #[must_use]
    pub fn token_expired(
        tenant_id: TenantId,
        account: AdAccountId,
        account_name: &str,
        at: OffsetDateTime,
    ) -> Self {
        let title = format!("Reconnect ad account \"{account_name}\": its access token expired");
        let body = format!(
            "Meta no longer accepts the access token of ad account \"{account_name}\" \
             (expired or revoked), so AdScale stopped syncing it.\n\
             Give it a new access token (PATCH /api/v1/ad-accounts/{account} with \
             access_token) to resume syncing."
        );
        let data = json!({
            "ad_account_id": account.to_string(),
            "ad_account_name": account_name,
            "status": "NEEDS_REAUTH",
        });
        new_alert(
            tenant_id,
            AlertKind::TokenExpired,
            Severity::Critical,
            title,
            body,
            data,
            at,
        )
    }

    /// One entity's metric (`level` `campaign` or `ad`) fell outside its
    /// expected range on `a.date`. The id is derived from the tenant,
    /// entity, metric and day, so the same anomaly found again (every sync
    /// re-judges yesterday) is one alert: the outbox keeps the first.
    #[must_use]
    pub fn anomaly(
        tenant_id: TenantId,
        level: &str,
        entity_id: Uuid,
        name: &str,
        a: &Anomaly,
        at: OffsetDateTime,
    ) -> Self {
        let metric = a.metric.as_str();
        let (way, severity) = match a.direction {
            Direction::Up => ("above", Severity::Warning),
            Direction::Down => ("below", Severity::Warning),
        };
        let title = format!(
            "Anomaly: {metric} of {level} \"{name}\" is {way} its usual range on {}",
            a.date
        );
        let body = format!(
            "On {}, the {metric} of {level} \"{name}\" was {:.2}, {way} the range expected \
             from the {} days before it ({:.2} to {:.2}, median {:.2}; robust z-score {:.1}).",
            a.date, a.value, a.history_len, a.expected_low, a.expected_high, a.median, a.z,
        );
        let key = format!(
            "anomaly/{tenant_id}/{level}/{entity_id}/{metric}/{}",
            a.date
        );
        let mut alert = new_alert(
            tenant_id,
            AlertKind::Anomaly,
            severity,
            title,
            body,
            json!({
                "level": level,
                "entity_id": entity_id.to_string(),
                "entity_name": name,
                "metric": metric,
                "date": a.date.to_string(),
                "value": a.value,
                "expected_low": a.expected_low,
                "expected_high": a.expected_high,
                "z_score": if a.z.is_finite() { json!(a.z) } else { Value::Null },
                "direction": way,
            }),
            at,
        );
        alert.id = Uuid::new_v5(&Uuid::NAMESPACE_OID, key.as_bytes());
        alert
    }

    /// A test alert for one channel, to check it is set up.
    #[must_use]
    pub fn channel_test(tenant_id: TenantId, channel_name: &str, at: OffsetDateTime) -> Self {
        new_alert(
            tenant_id,
            AlertKind::Test,
            Severity::Info,
            format!("Test alert for channel \"{channel_name}\""),
            format!(
                "This is a test alert sent on request to the notification channel \
                 \"{channel_name}\". If you can read it, the channel works."
            ),
            json!({"channel_name": channel_name}),
            at,
        )
    }
}

/// "pause" / "budget change".
fn action_noun(s: &Suggestion) -> &'static str {
    match s.proposal {
        Proposal::Pause => "pause",
        Proposal::Budget { .. } => "budget change",
        Proposal::Notify => "notice",
    }
}

/// "Weekly" from "weekly".
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads::DateRange;
    use crate::ingestion::{SyncCounts, SyncKind, SyncStatus};
    use crate::kpi::KpiTotals;
    use crate::rules::{Rule, RuleSpec, Verdict, evaluate, window_ending};
    use crate::{SyncRunId, ids::TenantId};
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-10-04 12:00 UTC);

    #[test]
    fn an_anomaly_says_which_metric_how_far_and_the_same_finding_has_the_same_id() {
        let t = TenantId::generate();
        let campaign = Uuid::from_u128(9);
        let a = Anomaly {
            metric: crate::analysis::Metric::Spend,
            date: date!(2026 - 10 - 03),
            value: 310.0,
            z: 16.86,
            median: 100.0,
            expected_low: 89.62,
            expected_high: 110.38,
            direction: Direction::Up,
            history_len: 28,
        };
        let alert = Alert::anomaly(t, "campaign", campaign, "Spiky", &a, NOW);
        assert_eq!(alert.kind, AlertKind::Anomaly);
        assert_eq!(
            alert.title,
            "Anomaly: spend of campaign \"Spiky\" is above its usual range on 2026-10-03"
        );
        assert!(
            alert
                .body
                .contains("On 2026-10-03, the spend of campaign \"Spiky\" was 310.00, above")
                && alert
                    .body
                    .contains("(89.62 to 110.38, median 100.00; robust z-score 16.9)"),
            "{}",
            alert.body
        );
        let later = Alert::anomaly(
            t,
            "campaign",
            campaign,
            "Spiky",
            &a,
            NOW + time::Duration::hours(1),
        );
        assert_eq!(alert.id, later.id, "found again: the same alert");
        let other_day = Anomaly {
            date: date!(2026 - 10 - 04),
            ..a
        };
        assert_ne!(
            alert.id,
            Alert::anomaly(t, "campaign", campaign, "Spiky", &other_day, NOW).id
        );
        let infinite = Anomaly {
            z: f64::INFINITY,
            ..a
        };
        assert_eq!(
            Alert::anomaly(t, "campaign", campaign, "Spiky", &infinite, NOW).data["z_score"],
            Value::Null
        );
    }

    fn suggestion(proposal: Proposal) -> Suggestion {
        let rule = Rule::create(TenantId::generate(), RuleSpec::seed(), NOW).unwrap();
        let totals = KpiTotals {
            impressions: 2_000,
            clicks: 10,
            spend: Decimal::new(3000, 2),
            conversions: 3,
            ..KpiTotals::default()
        };
        let Verdict::Triggered(trigger) = evaluate(&rule.spec, &totals) else {
            panic!("must trigger");
        };
        Suggestion::pending(
            &rule,
            Uuid::from_u128(7),
            "Low CTR".to_owned(),
            window_ending(date!(2026 - 10 - 03), 3),
            trigger,
            proposal,
            NOW,
        )
    }

    #[test]
    fn a_pause_suggestion_names_the_campaign_rule_reason_and_change() {
        let s = suggestion(Proposal::Pause);
        let a = Alert::suggestion_created(&s, "Low CTR or high CPA");
        assert_eq!(
            (a.kind, a.severity),
            (AlertKind::SuggestionCreated, Severity::Warning)
        );
        assert_eq!(a.tenant_id, s.tenant_id);
        assert_eq!(a.title, "Suggestion: pause campaign \"Low CTR\"");
        assert_eq!(
            a.body,
            format!(
                "Rule \"Low CTR or high CPA\" (version 1) fired for campaign \"Low CTR\".\n\
                 Why: CTR 0.5 % < 1 % over the last 3 days (spend 30.00, 2,000 impressions)\n\
                 Window: 2026-10-01 to 2026-10-03\n\
                 Proposed: pause the campaign.\n\
                 Review it in AdScale (suggestion {}).",
                s.id
            )
        );
        assert_eq!(a.data["suggestion_id"], json!(s.id.to_string()));
        assert_eq!(a.data["action"], json!("PAUSE"));
        assert_eq!(a.data["proposed"], Value::Null);
        assert_eq!(
            a.data["window"],
            json!({"from": "2026-10-01", "to": "2026-10-03"})
        );
        assert_eq!(a.created_at, NOW);
    }

    #[test]
    fn a_budget_suggestion_states_from_and_to() {
        let s = suggestion(Proposal::Budget {
            from: Decimal::new(100_000, 2),
            to: Decimal::new(120_000, 2),
        });
        let a = Alert::suggestion_created(&s, "Scale winners");
        assert_eq!(
            a.title,
            "Suggestion: raise the daily budget from 1,000.00 to 1,200.00 for campaign \"Low CTR\""
        );
        assert!(
            a.body
                .contains("Proposed: raise the daily budget from 1,000.00 to 1,200.00.")
        );
        assert_eq!(
            a.data["proposed"],
            json!({"from": "1000.00", "to": "1200.00"})
        );
        assert_eq!(a.severity, Severity::Info);
    }

    #[test]
    fn applied_and_failed_actions_say_what_happened() {
        let s = suggestion(Proposal::Pause);
        let ok = Alert::action_applied(&s, "Low CTR or high CPA", NOW);
        assert_eq!(ok.kind, AlertKind::ActionApplied);
        assert_eq!(ok.title, "Applied: pause of campaign \"Low CTR\"");
        assert!(ok.body.contains(": pause the campaign."), "{}", ok.body);

        let bad = Alert::action_failed(&s, "Low CTR or high CPA", "token expired", NOW);
        assert_eq!(
            (bad.kind, bad.severity),
            (AlertKind::ActionFailed, Severity::Critical)
        );
        assert_eq!(bad.title, "Could not apply: pause of campaign \"Low CTR\"");
        assert!(bad.body.contains("Error: token expired"), "{}", bad.body);
        assert_eq!(bad.data["error"], json!("token expired"));
    }

    #[test]
    fn sync_failures_and_expired_tokens_name_the_account() {
        let run = SyncRun {
            id: SyncRunId::generate(),
            tenant_id: TenantId::generate(),
            ad_account_id: AdAccountId::generate(),
            kind: SyncKind::Scheduled,
            status: SyncStatus::Running,
            range: DateRange::new(date!(2026 - 10 - 03), date!(2026 - 10 - 04)).unwrap(),
            queued_at: NOW,
            started_at: Some(NOW),
            finished_at: None,
            counts: SyncCounts::default(),
            rows_changed: 0,
            api_calls: 3,
            attempts: 5,
            error: None,
        };
        let a = Alert::sync_failed(&run, "Main", "the Graph API was unavailable", NOW);
        assert_eq!(a.title, "Sync failed for ad account \"Main\"");
        assert!(a.body.starts_with(
            "The scheduled sync of ad account \"Main\" for 2026-10-03 to 2026-10-04 failed after 5 attempt(s).\nError: the Graph API was unavailable\n"
        ), "{}", a.body);
        assert_eq!(a.data["sync_run_id"], json!(run.id.to_string()));

        let t = Alert::token_expired(run.tenant_id, run.ad_account_id, "Main", NOW);
        assert_eq!(
            (t.kind, t.severity),
            (AlertKind::TokenExpired, Severity::Critical)
        );
        assert_eq!(
            t.title,
            "Reconnect ad account \"Main\": its access token expired"
        );
        assert!(
            t.body
                .contains(&format!("/api/v1/ad-accounts/{}", run.ad_account_id))
        );
    }

    #[test]
    fn money_groups_thousands_with_two_decimals() {
        assert_eq!(money(Decimal::new(12_345_678, 1)), "1,234,567.80");
        assert_eq!(money(Decimal::new(-5, 1)), "-0.50");
        assert_eq!(money(Decimal::ZERO), "0.00");
    }
}
