//! Insights on demand as a job: `POST /insights/generate` is checked at
//! once (role, week, accounts) and stored `QUEUED`; a worker's round
//! ([`RunInsightJobs`], inside the weekly insights round) writes the
//! documents as [`GenerateInsights`] does and records their ids, which any
//! member then reads with the job.
//!
//! - **Lease.** A taken job is held [`INSIGHT_JOB_LEASE`] (longer than a
//!   model call and its retry per account take); a worker that dies loses
//!   it to the next round.
//! - **Failures.** An account deleted since the request (or no account
//!   left) fails the job; a storage error is retried, and after
//!   [`INSIGHT_JOB_ATTEMPTS`] tries the job is `FAILED`. A failing model is
//!   no failure: the built-in document is stored.

use std::sync::Arc;

use domain::InsightJobId;
use domain::assistant::insight_jobs::{InsightJob, InsightJobOutcome, InsightJobRepository};
use domain::identity::{Actor, Permission};
use time::Duration;
use tracing::{info, instrument, warn};

use super::insights::{GenerateInsights, InsightRequest};
use crate::error::require;
use crate::jobs::{given_up, permanent, retry_at};
use crate::{AppError, Resource};

/// How long a worker holds an insight job it took.
pub const INSIGHT_JOB_LEASE: Duration = Duration::minutes(10);
/// Tries before an insight job failing on storage errors is given up.
pub const INSIGHT_JOB_ATTEMPTS: i32 = 3;
/// Insight jobs taken per round (each may ask the model once per account).
pub const INSIGHT_JOB_BATCH: u32 = 4;

/// Checks a request for insights and queues it.
pub struct RequestInsights {
    jobs: Arc<dyn InsightJobRepository>,
    generate: Arc<GenerateInsights>,
}

impl RequestInsights {
    #[must_use]
    pub fn new(jobs: Arc<dyn InsightJobRepository>, generate: Arc<GenerateInsights>) -> Self {
        Self { jobs, generate }
    }

    /// Queues the generation of `week` (by default each account's last
    /// whole ISO week) for the tenant's accounts or `ad_account_id`;
    /// nothing is stored for a refused request.
    ///
    /// # Errors
    /// As [`GenerateInsights::check`]: 403 below analyst; 422 `week` not an
    /// ISO week, or `NO_AD_ACCOUNT`; 404 for an account missing or another
    /// tenant's; storage failures.
    #[instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
    pub async fn execute(
        &self,
        actor: &Actor,
        week: Option<String>,
        ad_account_id: Option<domain::AdAccountId>,
    ) -> Result<InsightJob, AppError> {
        let req = self.generate.check(actor, week, ad_account_id).await?;
        let job = InsightJob::queued(
            actor.tenant_id,
            req.week,
            req.ad_account_id,
            actor.label(),
            self.generate.clock.now(),
        );
        self.jobs.create(&job).await?;
        Ok(job)
    }
}

/// One of the tenant's insight jobs.
pub struct GetInsightJob {
    jobs: Arc<dyn InsightJobRepository>,
}

impl GetInsightJob {
    #[must_use]
    pub fn new(jobs: Arc<dyn InsightJobRepository>) -> Self {
        Self { jobs }
    }

    /// # Errors
    /// 404 for a job missing or another tenant's; storage failures.
    pub async fn execute(&self, actor: &Actor, id: InsightJobId) -> Result<InsightJob, AppError> {
        require(actor, Permission::Read)?;
        self.jobs
            .get(actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound(Resource::InsightJob))
    }
}

/// The insight job: takes due jobs and writes their documents.
pub struct RunInsightJobs {
    jobs: Arc<dyn InsightJobRepository>,
    generate: Arc<GenerateInsights>,
}

impl RunInsightJobs {
    #[must_use]
    pub fn new(jobs: Arc<dyn InsightJobRepository>, generate: Arc<GenerateInsights>) -> Self {
        Self { jobs, generate }
    }

    /// One round; returns how many jobs it took (at most
    /// [`INSIGHT_JOB_BATCH`]).
    ///
    /// # Errors
    /// The queue could not be read or written (the round is retried by the
    /// caller).
    #[instrument(skip_all, fields(job = "insight_jobs"))]
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let now = self.generate.clock.now();
        let due = self
            .jobs
            .take_due(now, now + INSIGHT_JOB_LEASE, INSIGHT_JOB_BATCH)
            .await?;
        let taken = due.len();
        for job in due {
            let outcome = match given_up(job.attempts, INSIGHT_JOB_ATTEMPTS) {
                Some(why) => InsightJobOutcome::Failed(why),
                None => self.attempt(&job).await,
            };
            match &outcome {
                InsightJobOutcome::Done(ids) => {
                    info!(insight_job_id = %job.id, tenant_id = %job.tenant_id, insights = ids.len(), "insight job done");
                }
                InsightJobOutcome::Failed(why) | InsightJobOutcome::RetryAt { error: why, .. } => {
                    warn!(insight_job_id = %job.id, tenant_id = %job.tenant_id, error = %why, "insight job not done");
                }
            }
            self.jobs
                .finish(job.tenant_id, job.id, &outcome, self.generate.clock.now())
                .await?;
        }
        Ok(taken)
    }

    /// Writes one job's documents (the permission was checked when it was
    /// requested).
    async fn attempt(&self, job: &InsightJob) -> InsightJobOutcome {
        let req = InsightRequest {
            week: job.week,
            ad_account_id: job.ad_account_id,
        };
        match self.generate.generate(job.tenant_id, req).await {
            Ok(insights) => InsightJobOutcome::Done(insights.iter().map(|i| i.id).collect()),
            Err(e) if permanent(&e) => InsightJobOutcome::Failed(e.to_string()),
            Err(e) => match retry_at(
                job.attempts,
                INSIGHT_JOB_ATTEMPTS,
                self.generate.clock.now(),
            ) {
                Some(at) => InsightJobOutcome::RetryAt {
                    at,
                    error: e.to_string(),
                },
                None => InsightJobOutcome::Failed(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
#[path = "insight_jobs_tests.rs"]
mod tests;
