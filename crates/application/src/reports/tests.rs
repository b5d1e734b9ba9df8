use super::*;
use crate::analysis::testing::{NOW, World};
use domain::ads::Campaign;
use domain::identity::{Principal, Role};
use domain::reports::Table;
use domain::{CampaignId, UserId};
use time::macros::date;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn actor(w: &World) -> Actor {
    Actor {
        tenant_id: w.tenant,
        principal: Principal::User(UserId::generate()),
        role: Role::Viewer,
    }
}

fn totals(
    spend: &str,
    impressions: i64,
    clicks: i64,
    conversions: i64,
    revenue: &str,
) -> KpiTotals {
    KpiTotals {
        impressions,
        clicks,
        spend: d(spend),
        conversions,
        revenue: d(revenue),
        ..KpiTotals::default()
    }
}

/// "Winner" (daily budget 150) spends 100.00 a day for 5 results worth
/// 400.00 and "Loser" (100) 50.00 for 1 worth 40.00, Feb 10–27; on Feb 28
/// Winner spends 120.00 for 6 results worth 600.00. Today is Mar 1.
fn world() -> (World, BuildReport, Campaign, Campaign) {
    let w = World::new();
    let winner = w.campaign("Winner", Some("150"));
    let loser = w.campaign("Loser", Some("100"));
    let mut rows: Vec<(CampaignId, Date, KpiTotals)> = Vec::new();
    let mut day = date!(2026 - 02 - 10);
    while day <= date!(2026 - 02 - 28) {
        let win = if day == date!(2026 - 02 - 28) {
            totals("120", 10_000, 250, 6, "600")
        } else {
            totals("100", 10_000, 200, 5, "400")
        };
        rows.push((winner.id, day, win));
        rows.push((loser.id, day, totals("50", 5_000, 50, 1, "40")));
        day = day.next_day().unwrap();
    }
    let uc = BuildReport::new(w.reader(vec![winner.clone(), loser.clone()], rows));
    (w, uc, winner, loser)
}

fn request(w: &World, kind: ReportKind) -> ReportRequest {
    ReportRequest {
        kind,
        scope: ReportScope::AdAccount(w.account),
        period: None,
    }
}

fn figure<'a>(doc: &'a ReportDocument, label: &str) -> &'a Cell {
    &doc.summary.iter().find(|f| f.label == label).unwrap().value
}

fn table<'a>(doc: &'a ReportDocument, title: &str) -> &'a Table {
    doc.tables
        .iter()
        .find(|t| t.title.starts_with(title))
        .unwrap_or_else(|| panic!("no table {title}"))
}

fn num(s: &str) -> Cell {
    Cell::Number(d(s))
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

#[tokio::test]
async fn daily_report_compares_yesterday_with_the_day_before_and_the_7_day_average() {
    let (w, uc, ..) = world();
    let doc = uc
        .execute(&actor(&w), request(&w, ReportKind::Daily))
        .await
        .unwrap();
    assert_eq!(doc.title, "Daily report, 2026-02-28");
    assert_eq!(doc.subtitle, "Main · 2026-02-28");
    assert_eq!((doc.currency.as_str(), doc.generated_at), ("BRL", NOW));
    // Feb 28: 170.00 for 7 results worth 640.00, 300 clicks of 15,000.
    assert_eq!(figure(&doc, "Spend"), &num("170.00"));
    assert_eq!(figure(&doc, "Results"), &Cell::Integer(7));
    assert_eq!(figure(&doc, "CPA"), &num("24.29"));
    assert_eq!(figure(&doc, "ROAS"), &num("3.7647"));
    assert_eq!(figure(&doc, "CTR"), &num("2"));

    let periods = table(&doc, "The day against");
    let rows: Vec<&[Cell]> = periods.rows.iter().map(|r| &r[..3]).collect();
    assert_eq!(
        rows,
        [
            &[text("2026-02-28"), num("170.00"), num("7.00")][..],
            &[
                text("the day before (2026-02-27)"),
                num("150.00"),
                num("6.00")
            ][..],
            &[
                text("the 7-day average (2026-02-21 to 2026-02-27)"),
                num("150.00"),
                num("6.00")
            ][..],
        ]
    );
    assert_eq!(
        periods.columns[2].kind,
        ColumnKind::Ratio,
        "averaged results"
    );
    let change = table(
        &doc,
        "The day against the day before and the 7-day average: change",
    );
    // Spend +13.33 %, results +16.67 %, CPA 25.00 → 24.29: −2.84 %.
    assert_eq!(
        change.rows[0][..4],
        [
            text("the day before (2026-02-27)"),
            num("13.33"),
            num("16.67"),
            num("-2.84")
        ]
    );

    let top = table(&doc, "Top 5");
    let names: Vec<&Cell> = top.rows.iter().map(|r| &r[0]).collect();
    assert_eq!(names, [&text("Winner"), &text("Loser")]);
    assert!(table(&doc, "Bottom 5").rows.is_empty(), "no campaign twice");

    let chart = &doc.charts[0];
    assert_eq!(chart.x.len(), 14);
    assert_eq!(chart.x[0], date!(2026 - 02 - 15));
    assert_eq!(chart.series[0].values[13], Some(d("170.00")));
    assert_eq!(chart.series[1].values[13], Some(d("24.29")));
    doc.validate().unwrap();
}

#[tokio::test]
async fn weekly_report_defaults_to_the_last_whole_iso_week_and_compares_each_campaign() {
    let (w, uc, ..) = world();
    let doc = uc
        .execute(&actor(&w), request(&w, ReportKind::Weekly))
        .await
        .unwrap();
    // Yesterday is Saturday Feb 28: the last whole week is W08, Feb 16–22.
    assert_eq!(doc.title, "Weekly report, 2026-W08");
    assert_eq!(doc.subtitle, "Main · 2026-02-16 to 2026-02-22");
    assert_eq!(figure(&doc, "Spend"), &num("1050.00"));
    let periods = table(&doc, "The week against the week before");
    assert_eq!(
        periods.rows[1][..3],
        [
            text("the week before (2026-W07)"),
            num("900.00"),
            Cell::Integer(36)
        ]
    );
    let campaigns = table(&doc, "Campaigns, week over week");
    // Winner 700.00 (600.00 the week before, Feb 10–15 only): +16.67 %, CPA
    // unchanged at 20.00, the same spend every day: flat.
    assert_eq!(
        campaigns.rows[0],
        [
            text("Winner"),
            num("700.00"),
            Cell::Integer(35),
            num("20.00"),
            num("4"),
            num("2"),
            num("16.67"),
            num("0.00"),
            text("flat"),
        ]
    );
    assert_eq!(doc.charts[0].x.len(), 14);
}

#[tokio::test]
async fn executive_report_defaults_to_last_month_with_budget_use() {
    let (w, uc, ..) = world();
    let doc = uc
        .execute(&actor(&w), request(&w, ReportKind::Executive))
        .await
        .unwrap();
    assert_eq!(doc.subtitle, "Main · 2026-02-01 to 2026-02-28");
    // Winner 18 × 100 + 120 = 1,920.00, Loser 19 × 50 = 950.00.
    assert_eq!(figure(&doc, "Spend"), &num("2870.00"));
    assert_eq!(figure(&doc, "Revenue"), &num("8560.00"));
    // 2,870 of (150 + 100) × 28 = 7,000.
    assert_eq!(figure(&doc, "Budget use"), &num("41.00"));
    let campaigns = table(&doc, "Campaigns");
    let uses: Vec<(&Cell, &Cell, &Cell)> = campaigns
        .rows
        .iter()
        .map(|r| (&r[0], &r[6], &r[7]))
        .collect();
    assert_eq!(
        uses,
        [
            (&text("Winner"), &num("150.00"), &num("45.71")),
            (&text("Loser"), &num("100.00"), &num("33.93")),
        ]
    );
    // January had nothing: no change can be computed, never a division by 0.
    let change = table(&doc, "The period against the one before: change");
    assert_eq!(change.rows[0][1], Cell::Empty);
    assert_eq!(doc.charts[0].x.len(), 28);
}

#[tokio::test]
async fn a_period_not_yet_over_is_refused_and_a_foreign_account_is_not_found() {
    let (w, uc, ..) = world();
    let today = ReportRequest {
        period: Some(DateRange::day(date!(2026 - 03 - 01))),
        ..request(&w, ReportKind::Daily)
    };
    let err = uc.execute(&actor(&w), today).await.unwrap_err();
    assert!(matches!(err, AppError::Validation(_)), "{err:?}");
    let stranger = Actor {
        tenant_id: domain::TenantId::generate(),
        ..actor(&w)
    };
    let err = uc
        .execute(&stranger, request(&w, ReportKind::Daily))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
}

#[test]
fn periods_parse_by_kind_and_misplaced_fields_are_named() {
    let account = Some(AdAccountId::generate());
    let weekly = ReportInput {
        kind: "weekly".to_owned(),
        ad_account_id: account,
        week: Some("2026-W47".to_owned()),
        ..ReportInput::default()
    };
    assert_eq!(
        weekly.parse().unwrap().period,
        Some(DateRange::new(date!(2026 - 11 - 16), date!(2026 - 11 - 22)).unwrap())
    );
    let monthly = ReportInput {
        kind: "executive".to_owned(),
        ad_account_id: account,
        month: Some("2024-02".to_owned()),
        ..ReportInput::default()
    };
    assert_eq!(
        monthly.parse().unwrap().period,
        Some(DateRange::new(date!(2024 - 02 - 01), date!(2024 - 02 - 29)).unwrap())
    );
    let wrong = ReportInput {
        kind: "daily".to_owned(),
        week: Some("2026-W47".to_owned()),
        date: Some("yesterday".to_owned()),
        ..ReportInput::default()
    };
    let fields = wrong.parse().unwrap_err().fields;
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["date", "week"]);
    let bad = ReportInput {
        kind: "monthly".to_owned(),
        ad_account_id: account,
        ..ReportInput::default()
    };
    assert_eq!(
        bad.parse().unwrap_err().fields["kind"],
        "must be one of daily, weekly, executive"
    );
    let half = ReportInput {
        kind: "executive".to_owned(),
        ad_account_id: account,
        from: Some("2026-11-01".to_owned()),
        ..ReportInput::default()
    };
    assert!(half.parse().unwrap_err().fields.contains_key("to"));
    assert!(iso_week("2026-W54").is_err() && month("2026-13").is_err());
}

#[test]
fn without_an_ad_account_the_report_covers_the_organization_in_one_currency() {
    let org = |currency: Option<&str>| ReportInput {
        kind: "daily".to_owned(),
        currency: currency.map(str::to_owned),
        ..ReportInput::default()
    };
    assert_eq!(
        org(None).parse().unwrap().scope,
        ReportScope::Organization { currency: None }
    );
    assert_eq!(
        org(Some("usd")).parse().unwrap().scope,
        ReportScope::Organization {
            currency: Some(domain::ads::Currency::parse("USD").unwrap())
        }
    );
    assert!(
        org(Some("dollars"))
            .parse()
            .unwrap_err()
            .fields
            .contains_key("currency")
    );
    let both = ReportInput {
        ad_account_id: Some(AdAccountId::generate()),
        ..org(Some("BRL"))
    };
    assert_eq!(
        both.parse().unwrap_err().fields["currency"],
        "applies to organization reports only (leave out ad_account_id)"
    );
}

#[tokio::test]
async fn an_organization_report_of_one_account_has_the_account_s_figures_and_an_accounts_table() {
    let (w, uc, ..) = world();
    let account = uc
        .execute(&actor(&w), request(&w, ReportKind::Weekly))
        .await
        .unwrap();
    let org = uc
        .execute(
            &actor(&w),
            ReportRequest {
                scope: ReportScope::Organization { currency: None },
                ..request(&w, ReportKind::Weekly)
            },
        )
        .await
        .unwrap();
    assert_eq!(org.summary, account.summary);
    assert_eq!(
        org.subtitle,
        "All ad accounts (BRL) · 2026-02-16 to 2026-02-22"
    );
    let accounts = table(&org, "Ad accounts");
    assert_eq!(accounts.rows.len(), 1);
    assert_eq!(accounts.rows[0][..2], [text("Main"), num("1050.00")]);
    assert_eq!(
        table(&org, "Campaigns, week over week"),
        table(&account, "Campaigns, week over week"),
        "one account: campaigns keep their own names"
    );
    let usd = uc
        .execute(
            &actor(&w),
            ReportRequest {
                scope: ReportScope::Organization {
                    currency: Some(domain::ads::Currency::parse("USD").unwrap()),
                },
                ..request(&w, ReportKind::Weekly)
            },
        )
        .await
        .unwrap_err();
    match usd {
        AppError::Validation(v) => assert_eq!(
            v.fields["currency"],
            "no ad account of the organization reports in USD; they report in BRL"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_periods_are_whole_and_end_by_yesterday() {
    // Sunday Nov 22, 2026: week 47 is whole; so is October.
    let sunday = date!(2026 - 11 - 22);
    assert_eq!(
        default_period(ReportKind::Weekly, sunday),
        DateRange::new(date!(2026 - 11 - 16), sunday).unwrap()
    );
    assert_eq!(
        default_period(ReportKind::Executive, sunday),
        DateRange::new(date!(2026 - 10 - 01), date!(2026 - 10 - 31)).unwrap()
    );
    // The last day of a month: that month is whole.
    assert_eq!(
        default_period(ReportKind::Executive, date!(2026 - 11 - 30)),
        DateRange::new(date!(2026 - 11 - 01), date!(2026 - 11 - 30)).unwrap()
    );
    assert_eq!(
        default_period(ReportKind::Daily, sunday),
        DateRange::day(sunday)
    );
}

#[tokio::test]
async fn executive_report_lists_the_period_s_applied_suggestions_with_their_effect() {
    use domain::page::Page;
    use domain::rules::{
        MockSuggestionRepository, Proposal, Rule, RuleSpec, Suggestion, SuggestionStatus, Trigger,
    };
    use time::OffsetDateTime;

    let (w, _, winner, loser) = world();
    let rule = Rule::create(w.tenant, RuleSpec::seed(), NOW).unwrap();
    let applied = |campaign: &Campaign, at: OffsetDateTime| {
        let mut s = Suggestion::pending(
            &rule,
            campaign.id.into_uuid(),
            campaign.name.clone(),
            DateRange::day(at.date()),
            Trigger {
                matched: Vec::new(),
                metrics: domain::rules::MetricSnapshot::default(),
                reason: "test".to_owned(),
            },
            Proposal::Budget {
                from: d("150.00"),
                to: d("180.00"),
            },
            at,
        );
        s.status = SuggestionStatus::Applied;
        s.applied_at = Some(at);
        s
    };
    let in_period = applied(&winner, time::macros::datetime!(2026-02-20 10:00 UTC));
    let before_period = applied(&loser, time::macros::datetime!(2026-01-15 10:00 UTC));
    // A campaign of another ad account of the tenant.
    let elsewhere = applied(
        &w.campaign("Elsewhere", Some("10")),
        time::macros::datetime!(2026-02-21 10:00 UTC),
    );
    let mut repo = MockSuggestionRepository::new();
    let tenant = w.tenant;
    repo.expect_list().returning(move |t, status, _| {
        assert_eq!(status, Some(SuggestionStatus::Applied));
        Ok(Page {
            items: if t == tenant {
                vec![in_period.clone(), before_period.clone(), elsewhere.clone()]
            } else {
                Vec::new()
            },
            next_cursor: None,
            limit: 100,
        })
    });
    let rows = vec![(
        winner.id,
        date!(2026 - 02 - 13),
        totals("100", 10_000, 200, 5, "400"),
    )];
    let mut all = rows;
    let mut day = date!(2026 - 02 - 14);
    while day <= date!(2026 - 02 - 28) {
        all.push((winner.id, day, totals("100", 10_000, 200, 5, "400")));
        day = day.next_day().unwrap();
    }
    let uc = BuildReport::new(w.reader(vec![winner.clone(), loser], all))
        .with_suggestions(Arc::new(repo));
    let doc = uc
        .execute(&actor(&w), request(&w, ReportKind::Executive))
        .await
        .unwrap();
    let t = table(&doc, "Applied suggestions and their effect");
    assert_eq!(
        t.rows.len(),
        1,
        "January's is outside February; another account's is not this report's"
    );
    assert_eq!(
        t.rows[0],
        [
            Cell::Date(date!(2026 - 02 - 20)),
            text("Winner"),
            text("budget 150.00 → 180.00"),
            num("100.00"),
            num("100.00"),
            num("20.00"),
            num("20.00"),
            num("4"),
            num("4"),
        ]
    );
}
