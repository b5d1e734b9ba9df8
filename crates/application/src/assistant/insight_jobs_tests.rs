use domain::AdAccountId;
use domain::assistant::insight::MockGeneratedInsightRepository;
use domain::assistant::insight_jobs::{InsightJobStatus, MockInsightJobRepository};
use domain::identity::Role as MemberRole;
use time::macros::date;

use super::*;
use crate::analysis::testing::{NOW, World};
use crate::assistant::insights::tests::{WEEK, actor, generate, storing};

fn request(
    w: &World,
    repo: MockGeneratedInsightRepository,
    jobs: MockInsightJobRepository,
) -> RequestInsights {
    RequestInsights::new(Arc::new(jobs), Arc::new(generate(w, repo, None)))
}

/// The job runner over `jobs`, whose queue hands out `job` once.
fn runner(
    w: &World,
    repo: MockGeneratedInsightRepository,
    mut jobs: MockInsightJobRepository,
    job: InsightJob,
) -> RunInsightJobs {
    jobs.expect_take_due()
        .times(1)
        .withf(|now, until, limit| {
            *until - *now == INSIGHT_JOB_LEASE && *limit == INSIGHT_JOB_BATCH
        })
        .returning(move |_, _, _| Ok(vec![job.clone()]));
    RunInsightJobs::new(Arc::new(jobs), Arc::new(generate(w, repo, None)))
}

/// A job of W08 as taken by a worker (`attempts` counted).
fn taken(w: &World, ad_account_id: Option<AdAccountId>, attempts: i32) -> InsightJob {
    let mut job = InsightJob::queued(
        w.tenant,
        Some(crate::reports::iso_week(WEEK).unwrap()),
        ad_account_id,
        "user:x".to_owned(),
        NOW,
    );
    job.attempts = attempts;
    job
}

#[tokio::test]
async fn insight_request_is_queued_after_its_checks_and_writes_no_document() {
    let w = World::new();
    let mut jobs = MockInsightJobRepository::new();
    jobs.expect_create()
        .times(1)
        .withf(|j| j.status == InsightJobStatus::Queued && j.attempts == 0)
        .returning(|_| Ok(()));
    let job = request(&w, storing(0), jobs)
        .execute(
            &actor(&w, MemberRole::Analyst),
            Some(WEEK.into()),
            Some(w.account),
        )
        .await
        .unwrap();
    assert_eq!(
        job.week.map(|d| (d.from(), d.to())),
        Some((date!(2026 - 02 - 16), date!(2026 - 02 - 22)))
    );
    assert_eq!(
        (job.tenant_id, job.ad_account_id, job.created_at),
        (w.tenant, Some(w.account), NOW)
    );
    assert!(job.insight_ids.is_empty() && job.finished_at.is_none());
}

#[tokio::test]
async fn insight_requests_refused_store_no_job() {
    let w = World::new();
    let refused = [
        (MemberRole::Viewer, None, None),
        (MemberRole::Analyst, Some("2026-W99"), None),
        (MemberRole::Analyst, None, Some(AdAccountId::generate())),
    ];
    for (role, week, account) in refused {
        let mut jobs = MockInsightJobRepository::new();
        jobs.expect_create().never();
        let e = request(&w, storing(0), jobs)
            .execute(&actor(&w, role), week.map(str::to_owned), account)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                AppError::Forbidden
                    | AppError::Validation(_)
                    | AppError::NotFound(Resource::AdAccount)
            ),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn insight_job_run_stores_the_documents_and_records_their_ids() {
    let w = World::new();
    let job = taken(&w, None, 1);
    let id = job.id;
    let mut repo = MockGeneratedInsightRepository::new();
    let stored = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = stored.clone();
    repo.expect_upsert().times(1).returning(move |i| {
        seen.lock().unwrap().push(i.id);
        Ok(())
    });
    let mut jobs = MockInsightJobRepository::new();
    let (recorded, tenant) = (stored.clone(), w.tenant);
    jobs.expect_finish()
        .times(1)
        .withf(move |t, j, outcome, _| {
            let ids = recorded.lock().unwrap().clone();
            *t == tenant && *j == id && *outcome == InsightJobOutcome::Done(ids)
        })
        .returning(|_, _, _, _| Ok(()));
    let run = runner(&w, repo, jobs, job);
    assert_eq!(run.run_once().await.unwrap(), 1);
    assert_eq!(stored.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn insight_job_of_an_account_gone_since_the_request_fails() {
    let w = World::new();
    let job = taken(&w, Some(AdAccountId::generate()), 1);
    let mut jobs = MockInsightJobRepository::new();
    jobs.expect_finish()
        .times(1)
        .withf(|_, _, outcome, _| {
            *outcome == InsightJobOutcome::Failed("ad account not found".to_owned())
        })
        .returning(|_, _, _, _| Ok(()));
    let run = runner(&w, storing(0), jobs, job);
    assert_eq!(run.run_once().await.unwrap(), 1);
}

#[tokio::test]
async fn insight_job_storage_errors_are_retried_then_fail_on_the_last_try() {
    let w = World::new();
    for (attempts, retried) in [(1, true), (INSIGHT_JOB_ATTEMPTS, false)] {
        let mut repo = MockGeneratedInsightRepository::new();
        repo.expect_upsert()
            .returning(|_| Err(domain::RepoError::Unavailable("down".into())));
        let mut jobs = MockInsightJobRepository::new();
        jobs.expect_finish()
            .times(1)
            .withf(move |_, _, outcome, _| match outcome {
                InsightJobOutcome::RetryAt { at, .. } => retried && *at > NOW,
                InsightJobOutcome::Failed(_) => !retried,
                InsightJobOutcome::Done(_) => false,
            })
            .returning(|_, _, _, _| Ok(()));
        let run = runner(&w, repo, jobs, taken(&w, None, attempts));
        assert_eq!(run.run_once().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn insight_job_taken_more_often_than_it_may_be_tried_is_given_up_unrun() {
    let w = World::new();
    let mut jobs = MockInsightJobRepository::new();
    jobs.expect_finish()
        .times(1)
        .withf(|_, _, outcome, _| {
            matches!(outcome, InsightJobOutcome::Failed(why) if why.starts_with("gave up after 3 tries"))
        })
        .returning(|_, _, _, _| Ok(()));
    let run = runner(
        &w,
        storing(0),
        jobs,
        taken(&w, None, INSIGHT_JOB_ATTEMPTS + 1),
    );
    assert_eq!(run.run_once().await.unwrap(), 1);
}
