//! The weekly insights round: when an ISO week is over, every ad account of
//! every tenant that spent in it gets that week's document (as
//! [`GenerateInsights`] writes it) without anyone asking, from Monday
//! [`WEEKLY_INSIGHT_HOUR`]:00 in the account's time zone, once per account
//! and week.
//!
//! [`WEEKLY_INSIGHT_HOUR`]: domain::assistant::insight::WEEKLY_INSIGHT_HOUR
//!
//! - **Bounded.** Per candidate week (at most two: time zones span 26
//!   hours) one query finds the time zones of the accounts lacking its
//!   document and one lists those accounts in the zones where it is due,
//!   [`WEEKLY_BATCH`] at a time; at most once a minute, nothing is read per
//!   tenant.
//! - **Once.** An account that already has the week's document (on demand
//!   or from an earlier round) or spent nothing is skipped; a worker claims
//!   the week before asking the model, so two workers never both write it.
//! - **Failures.** A failing model still stores the built-in document (so a
//!   round never loops on one account); a storage error gives the claim up
//!   and leaves the week to the next round.
//! - **Insight jobs.** Every round first runs the queued on-demand requests
//!   ([`RunInsightJobs`], not throttled); with `WEEKLY_INSIGHTS=off` the
//!   round still runs them and skips the weekly part
//!   ([`WeeklyInsights::jobs_only`]).

use std::sync::{Arc, Mutex};

use domain::ads::{AdAccount, DateRange};
use domain::assistant::insight::weekly_insight_due;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use tracing::{info, instrument, warn};

use super::insight_jobs::{INSIGHT_JOB_BATCH, RunInsightJobs};
use super::insights::GenerateInsights;
use crate::AppError;

/// Accounts a round writes at most; a full round is followed by another at
/// once.
pub const WEEKLY_BATCH: u32 = 20;
/// How often the round looks for due weeks, at most, when the last one
/// found less than a full batch.
const CHECK_EVERY: Duration = Duration::MINUTE;
/// How long a claim holds an account's week: longer than the model's
/// answer and its retry take, short enough that a dead worker's week is
/// taken over the same morning.
const CLAIM_LEASE: Duration = Duration::minutes(10);
/// The widest offsets from UTC of a time zone (UTC−12 to UTC+14).
const ZONE_OFFSETS: [Duration; 2] = [Duration::hours(-12), Duration::hours(14)];

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeeklyRound {
    /// Insight jobs taken.
    pub jobs: usize,
    /// Documents stored by the weekly part.
    pub generated: usize,
    /// Whether it stopped at [`WEEKLY_BATCH`] accounts or took a full batch
    /// of jobs (more may be waiting).
    pub full: bool,
}

/// Runs the queued insight jobs and writes each ad account's document of
/// the week just ended.
pub struct WeeklyInsights {
    generate: Arc<GenerateInsights>,
    jobs: Arc<RunInsightJobs>,
    /// Whether the weekly part runs (`WEEKLY_INSIGHTS`).
    weekly: bool,
    /// When the due weeks were last looked for.
    checked: Mutex<Option<OffsetDateTime>>,
}

impl WeeklyInsights {
    #[must_use]
    pub fn new(generate: Arc<GenerateInsights>, jobs: Arc<RunInsightJobs>) -> Self {
        Self {
            generate,
            jobs,
            weekly: true,
            checked: Mutex::new(None),
        }
    }

    /// Rounds that only run the queued insight jobs (`WEEKLY_INSIGHTS=off`):
    /// documents asked for are still written, none unasked.
    #[must_use]
    pub fn jobs_only(self) -> Self {
        Self {
            weekly: false,
            ..self
        }
    }

    /// One round: runs the queued insight jobs, then (unless
    /// [`Self::jobs_only`]) finds the accounts whose week is due and lacks
    /// its document, and writes theirs. The weekly part does nothing when
    /// its last look (not full) was less than a minute ago.
    ///
    /// # Errors
    /// The job queue could not be read or written, or the accounts could
    /// not be listed (the caller retries the round). One account's storage
    /// error is logged and left for the next round.
    #[instrument(skip_all, fields(job = "weekly_insights"))]
    pub async fn run_once(&self) -> Result<WeeklyRound, AppError> {
        let jobs = self.jobs.run_once().await?;
        let jobs_full = jobs >= usize::try_from(INSIGHT_JOB_BATCH).unwrap_or(usize::MAX);
        let mut round = if self.weekly {
            self.weekly_part().await?
        } else {
            WeeklyRound::default()
        };
        round.jobs = jobs;
        round.full |= jobs_full;
        Ok(round)
    }

    /// The weekly part of a round.
    async fn weekly_part(&self) -> Result<WeeklyRound, AppError> {
        let now = self.generate.clock.now();
        {
            let mut last = self
                .checked
                .lock()
                .map_err(|_| AppError::Internal("weekly insights clock poisoned".to_owned()))?;
            if last.is_some_and(|at| now - at < CHECK_EVERY) {
                return Ok(WeeklyRound::default());
            }
            *last = Some(now);
        }
        let mut round = WeeklyRound::default();
        let (g, batch) = (
            &self.generate,
            usize::try_from(WEEKLY_BATCH).unwrap_or(usize::MAX),
        );
        for week in candidate_weeks(now) {
            // Only the zones whose Monday morning has come: accounts still
            // waiting for theirs are never listed (nor starve the others).
            let zones: Vec<String> = g
                .insights
                .missing_week_zones(week, now)
                .await?
                .into_iter()
                .filter(|z| weekly_insight_due(g.clock.local_now_in(z)) == week)
                .collect();
            if zones.is_empty() {
                continue;
            }
            let accounts = g
                .insights
                .missing_week(week, &zones, now, WEEKLY_BATCH)
                .await?;
            let before = round.generated;
            for account in &accounts {
                match self.one(account, week, now).await {
                    Ok(true) => round.generated += 1,
                    Ok(false) => {}
                    Err(e) => {
                        warn!(error = %e, tenant_id = %account.tenant_id, ad_account_id = %account.id, "weekly insight not stored; retrying next round");
                    }
                }
            }
            // A full batch that got somewhere: more are probably waiting.
            round.full |= accounts.len() >= batch && round.generated > before;
        }
        if round.full
            && let Ok(mut last) = self.checked.lock()
        {
            *last = None;
        }
        if round.generated > 0 {
            info!(generated = round.generated, "weekly insights generated");
        }
        Ok(round)
    }

    /// Writes one account's week unless it spent nothing or another worker
    /// holds it; `true` when a document was stored.
    async fn one(
        &self,
        account: &AdAccount,
        week: DateRange,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        let (g, t) = (&self.generate, account.tenant_id);
        let d = g.week_data(t, account, week).await?;
        if !d.spent() {
            return Ok(false);
        }
        if !g
            .insights
            .claim_week(t, account.id, week, now, now + CLAIM_LEASE)
            .await?
        {
            return Ok(false);
        }
        if let Err(e) = g.write(t, account, week, &d).await {
            if let Err(release) = g.insights.release_week(t, account.id, week).await {
                warn!(error = %release, ad_account_id = %account.id, "weekly insight claim kept until its lease ends");
            }
            return Err(e);
        }
        Ok(true)
    }
}

/// The weeks due somewhere on Earth at `now`: the due week at the
/// earliest and the latest local time (one or two weeks).
fn candidate_weeks(now: OffsetDateTime) -> Vec<DateRange> {
    let mut weeks: Vec<DateRange> = ZONE_OFFSETS
        .iter()
        .map(|off| {
            let local = now + *off;
            weekly_insight_due(PrimitiveDateTime::new(local.date(), local.time()))
        })
        .collect();
    weeks.dedup();
    weeks
}

#[cfg(test)]
mod tests {
    use domain::assistant::insight::MockGeneratedInsightRepository;
    use domain::assistant::insight_jobs::MockInsightJobRepository;
    use domain::kpi::KpiTotals;
    use domain::platform::MockClock;
    use rust_decimal::Decimal;
    use time::macros::{date, datetime};

    use super::*;
    use crate::analysis::GoldReader;
    use crate::analysis::testing::World;

    /// 2026-W08, the week the round writes on Monday Feb 23.
    fn w08() -> DateRange {
        DateRange::new(date!(2026 - 02 - 16), date!(2026 - 02 - 22)).unwrap()
    }

    /// "Brand" spent 125.00 in W08 when `spent`, nothing otherwise.
    fn gold(w: &World, spent: bool) -> GoldReader {
        let c = w.campaign("Brand", None);
        let id = c.id;
        let totals = KpiTotals {
            impressions: 1000,
            clicks: 20,
            link_clicks: 20,
            spend: Decimal::new(12_500, 2),
            conversions: 5,
            revenue: Decimal::new(50_000, 2),
        };
        let rows = if spent {
            vec![(id, date!(2026 - 02 - 17), totals)]
        } else {
            Vec::new()
        };
        w.reader(vec![c], rows)
    }

    /// Monday Feb 23 at `local` in the account's zone (UTC−3: 09:00 UTC is
    /// 06:00 there).
    fn clock(local: PrimitiveDateTime) -> MockClock {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-02-23 09:00 UTC));
        clock.expect_local_now_in().return_const(local);
        clock
    }

    /// The round over `repo`, whose `missing_week` lists the account for W08
    /// only (W07's document exists).
    async fn round(
        w: &World,
        spent: bool,
        local: PrimitiveDateTime,
        mut repo: MockGeneratedInsightRepository,
    ) -> WeeklyInsights {
        let gold = gold(w, spent);
        let account = gold.account(w.tenant, w.account).await.unwrap();
        let zone = account.timezone.clone();
        repo.expect_missing_week_zones()
            .returning(move |_, _| Ok(vec![zone.clone()]));
        repo.expect_missing_week()
            .returning(move |week, zones, _, _| {
                assert_eq!(zones.len(), 1, "the due zone only");
                Ok(if week == w08() {
                    vec![account.clone()]
                } else {
                    Vec::new()
                })
            });
        let generate = Arc::new(GenerateInsights::new(
            Arc::new(repo),
            gold,
            None,
            Arc::new(clock(local)),
        ));
        let mut queue = MockInsightJobRepository::new();
        queue.expect_take_due().returning(|_, _, _| Ok(Vec::new()));
        let jobs = RunInsightJobs::new(Arc::new(queue), generate.clone());
        WeeklyInsights::new(generate, Arc::new(jobs))
    }

    #[tokio::test]
    async fn the_week_just_ended_is_written_from_monday_six_local_once_a_minute() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_claim_week()
            .times(1)
            .withf(|_, _, week, now, until| *week == w08() && *until - *now == CLAIM_LEASE)
            .returning(|_, _, _, _, _| Ok(true));
        repo.expect_upsert()
            .times(1)
            .withf(|i| i.week == w08() && i.prompt_tokens == 0)
            .returning(|_| Ok(()));
        let weekly = round(&w, true, datetime!(2026-02-23 6:00), repo).await;
        let done = weekly.run_once().await.unwrap();
        assert_eq!(
            done,
            WeeklyRound {
                jobs: 0,
                generated: 1,
                full: false
            }
        );
        // Within the minute the round does not even look.
        assert_eq!(weekly.run_once().await.unwrap(), WeeklyRound::default());
    }

    #[tokio::test]
    async fn with_weekly_insights_off_the_round_writes_no_unasked_week() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_claim_week().never();
        repo.expect_upsert().never();
        let weekly = round(&w, true, datetime!(2026-02-23 6:00), repo)
            .await
            .jobs_only();
        assert_eq!(weekly.run_once().await.unwrap(), WeeklyRound::default());
    }

    #[tokio::test]
    async fn before_monday_six_local_the_week_is_not_written() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_claim_week().never();
        repo.expect_upsert().never();
        let weekly = round(&w, true, datetime!(2026-02-23 5:59), repo).await;
        assert_eq!(weekly.run_once().await.unwrap().generated, 0);
    }

    #[tokio::test]
    async fn a_week_already_written_or_claimed_elsewhere_is_skipped() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        // The list was taken before the document was stored on demand.
        repo.expect_claim_week()
            .times(1)
            .returning(|_, _, _, _, _| Ok(false));
        repo.expect_upsert().never();
        let weekly = round(&w, true, datetime!(2026-02-23 7:00), repo).await;
        assert_eq!(weekly.run_once().await.unwrap().generated, 0);
    }

    #[tokio::test]
    async fn an_account_without_spend_gets_no_document_and_no_claim() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_claim_week().never();
        repo.expect_upsert().never();
        let weekly = round(&w, false, datetime!(2026-02-23 7:00), repo).await;
        assert_eq!(weekly.run_once().await.unwrap().generated, 0);
    }

    #[tokio::test]
    async fn a_storage_error_gives_the_claim_up_for_the_next_round() {
        let w = World::new();
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_claim_week()
            .times(1)
            .returning(|_, _, _, _, _| Ok(true));
        repo.expect_upsert()
            .times(1)
            .returning(|_| Err(domain::RepoError::Unavailable("down".into())));
        repo.expect_release_week()
            .times(1)
            .withf(|_, _, week| *week == w08())
            .returning(|_, _, _| Ok(()));
        let weekly = round(&w, true, datetime!(2026-02-23 7:00), repo).await;
        assert_eq!(weekly.run_once().await.unwrap().generated, 0);
    }
}
