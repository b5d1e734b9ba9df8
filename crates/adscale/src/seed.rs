//! `adscale seed-demo`: deterministic demo data (same numbers on every run for
//! the same arguments), loaded in batches through the same repositories the
//! API uses. Prints the demo logins and API keys: they are demo secrets, for
//! local use only.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use domain::ads::{
    Ad, AdAccount, AdAccountRepository, AdAccountStatus, AdPlatform, AdRepository, AdSet,
    AdSetRepository, Campaign, CampaignRepository, Currency, EntityStatus, InsightDaily,
    InsightLevel, InsightRepository,
};
use domain::identity::{
    ApiKey, ApiKeyRepository, Email, Organization, OrganizationRepository, Password,
    PasswordHasher, Role, Secrets, User, UserRepository,
};
use domain::kpi::KpiTotals;
use domain::{AdAccountId, AdId, AdSetId, ApiKeyId, CampaignId, TenantId, UserId};
use indicatif::{ProgressBar, ProgressStyle};
use infrastructure::crypto::{Argon2Hasher, RandomSecrets};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::cli::report;
use crate::config::Config;

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Organizations to create.
    #[arg(long, default_value_t = 2)]
    pub tenants: u32,
    /// Campaigns per organization.
    #[arg(long, default_value_t = 20)]
    pub campaigns: u32,
    /// Days of daily insights per ad, ending at --end-date.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Ads per campaign (one ad set each).
    #[arg(long, default_value_t = 2)]
    pub ads_per_campaign: u32,
    /// Last day of data (YYYY-MM-DD); yesterday (UTC) by default.
    #[arg(long)]
    pub end_date: Option<String>,
    /// Also write `bench.json` (keys, campaign ids, date range) here for the benchmark scripts.
    #[arg(long)]
    pub bench_out: Option<PathBuf>,
}

/// Rows per database batch.
const BATCH: usize = 4000;
const OBJECTIVES: [&str; 4] = [
    "OUTCOME_SALES",
    "OUTCOME_LEADS",
    "OUTCOME_TRAFFIC",
    "OUTCOME_AWARENESS",
];

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// One ad's day, drawn from plausible ranges (about 4 % of days deliver nothing).
fn ad_day(rng: &mut StdRng) -> KpiTotals {
    if rng.random_range(0..100) < 4 {
        return KpiTotals::default();
    }
    let impressions: i64 = rng.random_range(500..20_000);
    let clicks = impressions * rng.random_range(40..300) / 10_000; // CTR 0.4–3 %
    let link_clicks = clicks * rng.random_range(50..90) / 100;
    let spend_cents = impressions * rng.random_range(800..4_000) / 1_000; // CPM 8–40
    let conversions = clicks * rng.random_range(0..700) / 10_000; // 0–7 % of clicks
    let revenue_cents = conversions * rng.random_range(8_000..25_000);
    KpiTotals {
        impressions,
        clicks,
        link_clicks,
        spend: money(spend_cents),
        conversions,
        revenue: money(revenue_cents),
    }
}

/// Loads the demo data set.
///
/// # Errors
/// Storage failures, or demo data already present.
pub async fn run(config: &Config, args: &SeedArgs) -> anyhow::Result<()> {
    let adapters = crate::cli::migrated(config).await?;
    let db = adapters.db.clone();
    let first = Email::parse(&owner_email(1)).map_err(|e| anyhow::anyhow!("{:?}", e.fields))?;
    if db.find_by_email(&first).await?.is_some() {
        bail!(
            "demo data is already loaded ({} exists); seed a fresh database",
            first.as_str()
        );
    }
    let end = match &args.end_date {
        Some(s) => Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .context("--end-date")?,
        None => OffsetDateTime::now_utc()
            .date()
            .previous_day()
            .context("date underflow")?,
    };
    let days = i64::from(args.days.max(1));
    let start = end - time::Duration::days(days - 1);
    let hasher = Argon2Hasher::new(config.argon2_memory_kib, config.argon2_iterations, 1)?;
    let mut rng = StdRng::seed_from_u64(20_261_123);
    let now = OffsetDateTime::now_utc();
    let total_rows = u64::from(args.tenants)
        * u64::from(args.campaigns)
        * u64::from(args.ads_per_campaign + 1)
        * u64::try_from(days)?;
    let bar = ProgressBar::new(total_rows).with_style(
        ProgressStyle::with_template(
            "{spinner} insights {human_pos}/{human_len} [{bar:30}] {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut bench = BenchData {
        api_keys: vec![],
        campaigns: vec![],
        from: start.to_string(),
        to: end.to_string(),
    };
    let mut buffer: Vec<InsightDaily> = Vec::with_capacity(BATCH * 2);
    let mut seeded: Vec<(TenantId, AdAccountId)> = Vec::new();
    for t in 1..=args.tenants {
        let tenant = TenantId::generate();
        let org = Organization {
            id: tenant,
            name: format!("Demo Agency {t:02}"),
            timezone: Organization::DEFAULT_TIMEZONE.to_owned(),
            created_at: now,
        };
        let password = Password::parse(&format!("demo-password-{t:02}"))
            .map_err(|e| anyhow::anyhow!("{:?}", e.fields))?;
        let owner = User {
            id: UserId::generate(),
            email: owner_email(t),
            name: format!("Demo Owner {t:02}"),
            password_hash: hasher.hash(&password).await?,
            created_at: now,
        };
        db.create_with_owner(&org, &owner).await?;
        let key_secret = format!("ask_demo{t:02}_{}", hex_from(&mut rng, 24));
        let key = ApiKey {
            id: ApiKeyId::generate(),
            tenant_id: tenant,
            name: "demo integration".into(),
            role: Role::Admin,
            prefix: key_secret.chars().take(12).collect(),
            key_hash: RandomSecrets.digest(&key_secret),
            created_by: Some(owner.id),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        ApiKeyRepository::insert(db.as_ref(), &key).await?;
        report(&format!(
            "tenant {t:02}: login {} / {}  api key {key_secret}",
            owner.email,
            password.expose()
        ));
        bench.api_keys.push(key_secret);
        let account = AdAccount {
            id: AdAccountId::generate(),
            tenant_id: tenant,
            platform: AdPlatform::Meta,
            external_id: format!("act_1000000{t:03}"),
            name: format!("Demo Store {t:02} (BR)"),
            currency: Currency::parse("BRL").map_err(|e| anyhow::anyhow!("{:?}", e.fields))?,
            timezone: "America/Sao_Paulo".into(),
            status: AdAccountStatus::Active,
            created_at: now,
            updated_at: now,
        };
        AdAccountRepository::insert(db.as_ref(), &account).await?;
        seeded.push((tenant, account.id));
        for c in 1..=args.campaigns {
            let status = match rng.random_range(0..100) {
                0..61 => EntityStatus::Active,
                61..86 => EntityStatus::Paused,
                _ => EntityStatus::Archived,
            };
            let objective = OBJECTIVES[rng.random_range(0..OBJECTIVES.len())];
            let campaign = Campaign {
                id: CampaignId::generate(),
                tenant_id: tenant,
                ad_account_id: account.id,
                external_id: Some(format!("1202{t:03}{c:06}")),
                name: format!("C{c:03} {objective}"),
                status,
                objective: Some(objective.into()),
                daily_budget: Some(money(rng.random_range(50..500) * 100)),
                lifetime_budget: None,
                created_at: now,
                updated_at: now,
            };
            CampaignRepository::insert(db.as_ref(), &campaign).await?;
            bench.campaigns.push((t - 1, campaign.id.to_string()));
            let ad_set = AdSet {
                id: AdSetId::generate(),
                tenant_id: tenant,
                ad_account_id: account.id,
                campaign_id: campaign.id,
                external_id: Some(format!("1203{t:03}{c:06}")),
                name: format!("C{c:03} broad 18-65"),
                status,
                daily_budget: None,
                lifetime_budget: None,
                optimization_goal: Some("OFFSITE_CONVERSIONS".into()),
                created_at: now,
                updated_at: now,
            };
            AdSetRepository::insert(db.as_ref(), &ad_set).await?;
            let mut campaign_days = vec![KpiTotals::default(); usize::try_from(days)?];
            for a in 1..=args.ads_per_campaign {
                let ad = Ad {
                    id: AdId::generate(),
                    tenant_id: tenant,
                    ad_account_id: account.id,
                    campaign_id: campaign.id,
                    ad_set_id: ad_set.id,
                    external_id: Some(format!("1204{t:03}{c:05}{a}")),
                    name: format!("C{c:03} creative {a}"),
                    status,
                    targeting: serde_json::json!({"age_min": 18, "age_max": 65, "geo_locations": {"countries": ["BR"]}, "publisher_platforms": ["facebook", "instagram"]}),
                    creative: serde_json::json!({"id": format!("1205{t:03}{c:05}{a}"), "title": format!("Offer {a}")}),
                    performance: serde_json::json!({}),
                    created_at: now,
                    updated_at: now,
                };
                AdRepository::insert(db.as_ref(), &ad).await?;
                for (d, day_total) in campaign_days.iter_mut().enumerate() {
                    let totals = ad_day(&mut rng);
                    *day_total = day_total.plus(&totals);
                    buffer.push(insight(
                        tenant,
                        account.id,
                        InsightLevel::Ad,
                        *ad.id.as_uuid(),
                        campaign.id,
                        start + time::Duration::days(i64::try_from(d)?),
                        totals,
                    ));
                }
            }
            for (d, totals) in campaign_days.into_iter().enumerate() {
                buffer.push(insight(
                    tenant,
                    account.id,
                    InsightLevel::Campaign,
                    *campaign.id.as_uuid(),
                    campaign.id,
                    start + time::Duration::days(i64::try_from(d)?),
                    totals,
                ));
            }
            if buffer.len() >= BATCH {
                flush(db.as_ref(), &mut buffer, &bar).await?;
            }
        }
    }
    flush(db.as_ref(), &mut buffer, &bar).await?;
    bar.finish();
    // Gold (what KPIs, the Analyzer and reports read), as a sync would leave it.
    let range =
        domain::ads::DateRange::new(start, end).map_err(|e| anyhow::anyhow!("{:?}", e.fields))?;
    for (tenant, account) in &seeded {
        application::ingestion::gold::refresh(db.as_ref(), *tenant, *account, range, now)
            .await
            .context("refreshing gold")?;
    }
    adapters
        .pool
        .analyze_after_bulk_load()
        .await
        .context("analyzing the loaded tables")?;
    if let Some(dir) = &args.bench_out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        bench.write(dir)?;
        report(&format!("benchmark data written to {}", dir.display()));
    }
    Ok(())
}

fn owner_email(t: u32) -> String {
    format!("owner{t:02}@demo.adscale.dev")
}

fn hex_from(rng: &mut StdRng, bytes: usize) -> String {
    use std::fmt::Write;
    (0..bytes).fold(String::with_capacity(bytes * 2), |mut s, _| {
        let _ = write!(s, "{:02x}", rng.random::<u8>());
        s
    })
}

fn insight(
    tenant: TenantId,
    account: AdAccountId,
    level: InsightLevel,
    entity: uuid::Uuid,
    campaign: CampaignId,
    date: Date,
    totals: KpiTotals,
) -> InsightDaily {
    InsightDaily {
        tenant_id: tenant,
        ad_account_id: account,
        level,
        entity_id: entity,
        campaign_id: Some(campaign),
        date,
        totals,
        actions: serde_json::json!([]),
    }
}

async fn flush(
    repo: &dyn InsightRepository,
    buffer: &mut Vec<InsightDaily>,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    for chunk in buffer.chunks(BATCH) {
        repo.upsert_daily(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    buffer.clear();
    Ok(())
}

/// What the benchmark scripts need to build requests.
struct BenchData {
    api_keys: Vec<String>,
    /// (tenant index from 0, campaign id)
    campaigns: Vec<(u32, String)>,
    from: String,
    to: String,
}

impl BenchData {
    fn write(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        let json = serde_json::json!({
            "api_keys": self.api_keys,
            "campaigns": self.campaigns.iter().map(|(t, c)| serde_json::json!([t, c])).collect::<Vec<_>>(),
            "from": self.from,
            "to": self.to,
        });
        std::fs::write(dir.join("bench.json"), serde_json::to_vec_pretty(&json)?)?;
        Ok(())
    }
}
