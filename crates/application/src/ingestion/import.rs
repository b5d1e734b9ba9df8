//! Importing an Ads Manager CSV export into an ad account, through the same
//! silver and gold path as an API sync. The whole file is validated first:
//! a refused file writes nothing.
//!
//! Rows are matched to platform ids when the export has the ID columns;
//! without them a campaign, ad set or ad is keyed by its name as
//! `name:<campaign>[/<ad set>[/<ad>]]` so that re-importing the same export
//! updates the same rows instead of duplicating them.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::ads::{DateRange, EntityStatus};
use domain::identity::{Actor, Permission};
use domain::ingestion::{
    CampaignInsight, PlatformAd, PlatformAdSet, PlatformCampaign, PlatformInsight, SyncCounts,
    SyncKind, SyncOutcome, SyncRun, SyncStatus,
};
use domain::{AdAccountId, SyncRunId};
use serde_json::json;

use super::csv::{CsvImportError, ExportLevel, ImportedRow, parse_ads_manager_csv};
use super::sync::IngestionPorts;
use crate::error::require;
use crate::{AppError, Resource};

/// Largest accepted file.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

pub struct ImportCsv {
    ports: Arc<IngestionPorts>,
}

fn key(explicit: Option<&String>, parts: &[&str]) -> String {
    explicit
        .cloned()
        .unwrap_or_else(|| format!("name:{}", parts.join("/")))
}

/// The entities and insight rows a parsed export stands for.
#[derive(Default)]
struct Plan {
    campaigns: BTreeMap<String, PlatformCampaign>,
    ad_sets: BTreeMap<String, PlatformAdSet>,
    ads: BTreeMap<String, PlatformAd>,
    ad_rows: Vec<PlatformInsight>,
    campaign_rows: Vec<CampaignInsight>,
}

/// The entities and rows of a parsed export (the parser has already
/// refused files with two rows for the same entity and day).
fn plan(level: ExportLevel, rows: Vec<ImportedRow>) -> Plan {
    let mut p = Plan::default();
    for r in rows {
        let status = r.status.unwrap_or(EntityStatus::Active);
        let campaign = key(r.campaign_external_id.as_ref(), &[&r.campaign_name]);
        p.campaigns
            .entry(campaign.clone())
            .or_insert_with(|| PlatformCampaign {
                external_id: campaign.clone(),
                name: r.campaign_name.clone(),
                status,
                objective: None,
                daily_budget: None,
                lifetime_budget: None,
            });
        if level == ExportLevel::Campaign {
            p.campaign_rows.push(CampaignInsight {
                date: r.date,
                campaign_external_id: campaign,
                totals: r.totals,
            });
            continue;
        }
        let set_name = r
            .ad_set_name
            .clone()
            .unwrap_or_else(|| "(no ad set)".to_owned());
        let ad_set = key(
            r.ad_set_external_id.as_ref(),
            &[&r.campaign_name, &set_name],
        );
        p.ad_sets
            .entry(ad_set.clone())
            .or_insert_with(|| PlatformAdSet {
                external_id: ad_set.clone(),
                campaign_external_id: campaign.clone(),
                name: set_name.clone(),
                status,
                daily_budget: None,
                lifetime_budget: None,
                optimization_goal: None,
            });
        let ad_name = r.ad_name.clone().unwrap_or_default();
        let ad = key(
            r.ad_external_id.as_ref(),
            &[&r.campaign_name, &set_name, &ad_name],
        );
        p.ads.entry(ad.clone()).or_insert_with(|| PlatformAd {
            external_id: ad.clone(),
            campaign_external_id: campaign.clone(),
            adset_external_id: ad_set.clone(),
            name: ad_name,
            status,
            targeting: json!({}),
            creative: json!({}),
        });
        p.ad_rows.push(PlatformInsight {
            date: r.date,
            campaign_external_id: campaign,
            adset_external_id: ad_set,
            ad_external_id: ad,
            totals: r.totals,
            actions: "[]".to_owned(),
        });
    }
    p
}

/// A refused file as a 422 with the details clients act on.
fn refused(e: &CsvImportError) -> AppError {
    let details = match e {
        CsvImportError::MissingColumns(cols) => json!({"missing_columns": cols}),
        CsvImportError::Rows(rows) => json!({"rows": rows
            .iter()
            .map(|p| json!({"row": p.row, "column": p.column, "reason": p.reason}))
            .collect::<Vec<_>>()}),
        CsvImportError::CurrencyMismatch { file, account } => {
            json!({"fields": {"file": format!("is in {file}; the ad account is in {account}")}})
        }
        CsvImportError::Empty | CsvImportError::NotCsv(_) => {
            json!({"fields": {"file": e.to_string()}})
        }
    };
    AppError::Unprocessable {
        code: "IMPORT_REJECTED",
        message: e.to_string(),
        details,
    }
}

impl ImportCsv {
    #[must_use]
    pub fn new(ports: Arc<IngestionPorts>) -> Self {
        Self { ports }
    }

    /// Validates the whole file, then writes it as an `import` sync run.
    ///
    /// # Errors
    /// Forbidden below admin; 404 for a foreign account; 422 with
    /// `missing_columns` or `rows` for a refused file; storage failures.
    pub async fn execute(
        &self,
        actor: &Actor,
        id: AdAccountId,
        file: &[u8],
    ) -> Result<SyncRun, AppError> {
        require(actor, Permission::Write)?;
        let p = &self.ports;
        let t = actor.tenant_id;
        let account = p
            .accounts
            .find(t, id)
            .await?
            .ok_or(AppError::NotFound(Resource::AdAccount))?;
        let parsed = parse_ads_manager_csv(
            file,
            account.currency,
            &domain::actions::ResultAction::default(),
        )
        .map_err(|e| refused(&e))?;
        let (Some(from), Some(to)) = (
            parsed.rows.iter().map(|r| r.date).min(),
            parsed.rows.iter().map(|r| r.date).max(),
        ) else {
            return Err(refused(&CsvImportError::Empty));
        };
        let range = DateRange::new(from, to)?;
        let plan = plan(parsed.level, parsed.rows);
        let now = p.clock.now();
        let run = SyncRun {
            id: SyncRunId::generate(),
            tenant_id: t,
            ad_account_id: id,
            kind: SyncKind::Import,
            status: SyncStatus::Running,
            range,
            queued_at: now,
            started_at: Some(now),
            finished_at: None,
            counts: SyncCounts::default(),
            rows_changed: 0,
            api_calls: 0,
            attempts: 1,
            error: None,
        };
        let run = p.runs.enqueue(&run).await?;
        let mut outcome = SyncOutcome::default();
        let written = self.write(id, &plan, range, &mut outcome, actor).await;
        if let Err(e) = &written {
            outcome.error = Some(e.to_string());
        }
        p.runs.finish(t, run.id, &outcome, p.clock.now()).await?;
        written?;
        p.invalidate(t).await;
        p.audit
            .record(
                actor,
                "ad_account.import",
                "ad_account",
                &id.to_string(),
                None,
                Some(json!({"sync_run_id": run.id.to_string(), "rows": outcome.counts.insights, "from": range.from().to_string(), "to": range.to().to_string()})),
            )
            .await;
        p.runs
            .find(t, run.id)
            .await?
            .ok_or(AppError::NotFound(Resource::SyncRun))
    }

    async fn write(
        &self,
        id: AdAccountId,
        plan: &Plan,
        range: DateRange,
        out: &mut SyncOutcome,
        actor: &Actor,
    ) -> Result<(), domain::RepoError> {
        let p = &self.ports;
        let t = actor.tenant_id;
        let now = p.clock.now();
        let campaigns: Vec<_> = plan.campaigns.values().cloned().collect();
        let u = p.store.upsert_campaigns(t, id, &campaigns, now).await?;
        out.counts.campaigns = u.rows;
        out.rows_changed += u.changed;
        let ad_sets: Vec<_> = plan.ad_sets.values().cloned().collect();
        let u = p.store.upsert_ad_sets(t, id, &ad_sets, now).await?;
        out.counts.ad_sets = u.rows;
        out.rows_changed += u.changed;
        let ads: Vec<_> = plan.ads.values().cloned().collect();
        let u = p.store.upsert_ads(t, id, &ads, now).await?;
        out.counts.ads = u.rows;
        out.rows_changed += u.changed;
        let u = if plan.ad_rows.is_empty() {
            p.store
                .upsert_campaign_insights(t, id, &plan.campaign_rows, now)
                .await?
        } else {
            p.store
                .upsert_ad_insights(t, id, &plan.ad_rows, now)
                .await?
        };
        out.counts.insights = u.rows;
        out.rows_changed += u.changed;
        super::gold::refresh(p.store.as_ref(), t, id, range, now).await?;
        Ok(())
    }
}
