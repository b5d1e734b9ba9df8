//! Command line: `serve`, `worker`, `migrate`, `import`, `report`, `seed-demo`, `user create`.

use std::path::PathBuf;

use anyhow::Context;
use application::identity::{CreateUser, CreateUserInput};
use clap::{Args, Parser, Subcommand};
use domain::identity::Role;
use infrastructure::clock::SystemClock;
use infrastructure::crypto::Argon2Hasher;
use std::sync::Arc;

use crate::config::Config;
use crate::wiring::Adapters;

/// AdScale: marketing-operations backend. Configuration comes from the
/// environment (see README); without DATABASE_URL it runs on an embedded SQLite file.
#[derive(Debug, Parser)]
#[command(name = "adscale", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies migrations first unless RUN_MIGRATIONS=false).
    Serve,
    /// Run the job worker (syncs, schedules, bronze retention) until SIGINT/SIGTERM.
    /// Start any number of them against the same PostgreSQL and Redis.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import an Ads Manager CSV export (English or Brazilian Portuguese) into an ad account.
    Import(ImportArgs),
    /// Build and render one report of an ad account to a file (no queue).
    Report(ReportArgs),
    /// Load deterministic demo data and print the demo logins and API keys.
    SeedDemo(crate::seed::SeedArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ad account (uuid) the rows belong to.
    #[arg(long = "ad-account")]
    pub ad_account: uuid::Uuid,
    /// The CSV file exported from Ads Manager (breakdown by day).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The ad account (uuid) reported on.
    #[arg(
        long = "ad-account",
        required_unless_present = "organization",
        conflicts_with = "organization"
    )]
    pub ad_account: Option<uuid::Uuid>,
    /// Or the organization (uuid): its ad accounts of one currency, summed.
    #[arg(long)]
    pub organization: Option<uuid::Uuid>,
    /// With --organization: the currency whose accounts are summed (needed
    /// when they use several).
    #[arg(long, requires = "organization")]
    pub currency: Option<String>,
    /// daily, weekly or executive.
    #[arg(long, default_value = "weekly")]
    pub kind: String,
    /// csv, xlsx or pdf.
    #[arg(long, default_value = "pdf")]
    pub format: String,
    /// point or comma (pt-BR).
    #[arg(long = "decimal-separator")]
    pub decimal_separator: Option<String>,
    /// Daily: the day (YYYY-MM-DD); yesterday when absent.
    #[arg(long)]
    pub date: Option<String>,
    /// Weekly: the ISO week (YYYY-Www); the last whole week when absent.
    #[arg(long)]
    pub week: Option<String>,
    /// Executive: the month (YYYY-MM); last month when absent.
    #[arg(long)]
    pub month: Option<String>,
    /// Executive: a custom range, with --to.
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// Where to write the file; the report's own name in the current directory when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a password, in a new organization (as owner) or an existing one.
    Create(CreateUserArgs),
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// Read from ADSCALE_PASSWORD when not given, so it stays out of shell history.
    #[arg(long, env = "ADSCALE_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Join this organization (uuid) instead of creating one.
    #[arg(long, conflicts_with = "organization_name")]
    pub organization_id: Option<uuid::Uuid>,
    /// Name of the new organization to create.
    #[arg(long)]
    pub organization_name: Option<String>,
    /// Role in an existing organization (owner, admin, analyst, viewer).
    #[arg(long, default_value = "admin")]
    pub role: String,
}

/// Runs a command to completion.
///
/// # Errors
/// Whatever the command reports; printed by `main`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let _telemetry = crate::telemetry::init(&config)?;
    match cli.command {
        Command::Serve => crate::serve::serve(config).await,
        Command::Worker => crate::serve::worker(config).await,
        Command::Import(args) => import(&config, &args).await,
        Command::Report(args) => write_report(&config, args).await,
        Command::Migrate => {
            let adapters = Adapters::connect(&config).await?;
            let n = adapters
                .pool
                .run_migrations()
                .await
                .context("applying migrations")?;
            tracing::info!(
                applied = n,
                backend = adapters.pool.backend_name(),
                "migrations up to date"
            );
            Ok(())
        }
        Command::SeedDemo(args) => crate::seed::run(&config, &args).await,
        Command::User(UserCommand::Create(args)) => create_user(&config, args).await,
    }
}

async fn create_user(config: &Config, args: CreateUserArgs) -> anyhow::Result<()> {
    let adapters = migrated(config).await?;
    let db = adapters.db.clone();
    let hasher = Arc::new(Argon2Hasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        1,
    )?);
    let uc = CreateUser::new(db.clone(), db.clone(), db, hasher, Arc::new(SystemClock));
    let role = Role::parse(&args.role).map_err(|e| anyhow::anyhow!("{:?}", e.fields))?;
    let (user, org) = uc
        .execute(CreateUserInput {
            email: args.email,
            name: args.name,
            password: args.password,
            organization_id: args.organization_id.map(domain::TenantId::from_uuid),
            organization_name: args.organization_name,
            role,
        })
        .await
        .map_err(|e| match e {
            application::AppError::Validation(v) => {
                anyhow::anyhow!("invalid input: {:?}", v.fields)
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    tracing::info!(user_id = %user.id, organization_id = %org.id, "user created");
    report(&format!(
        "created {} ({}) in organization {} ({})",
        user.email, user.id, org.name, org.id
    ));
    Ok(())
}

/// The migrated store, every use case, and the ad account with its tenant:
/// what the commands acting on one account start from.
async fn with_account(
    config: &Config,
    ad_account: uuid::Uuid,
) -> anyhow::Result<(crate::wiring::Built, domain::AdAccountId, domain::TenantId)> {
    use domain::ingestion::AdAccountConnections;

    let adapters = migrated(config).await?;
    let settings = crate::wiring::Settings::from_config(config)?;
    let built = crate::wiring::build(&adapters, &settings)?;
    let id = domain::AdAccountId::from_uuid(ad_account);
    let tenant = adapters
        .db
        .tenant_of(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ad account {ad_account} not found"))?;
    Ok((built, id, tenant))
}

/// The adapters, with pending migrations applied.
///
/// # Errors
/// The store cannot be reached or migrated.
pub(crate) async fn migrated(config: &Config) -> anyhow::Result<Adapters> {
    let adapters = Adapters::connect(config).await?;
    adapters
        .pool
        .run_migrations()
        .await
        .context("applying migrations")?;
    Ok(adapters)
}

/// `adscale report`: the same document and renderer as the report job,
/// written straight to a file.
async fn write_report(config: &Config, args: ReportArgs) -> anyhow::Result<()> {
    use application::reports::{ReportInput, file_name};
    use domain::report_jobs::parse_separator;
    use domain::reports::{RenderOptions, ReportFormat, ReportRenderer};

    let (built, account, tenant) = match (args.ad_account, args.organization) {
        (Some(account), _) => {
            let (built, id, tenant) = with_account(config, account).await?;
            (built, Some(id), tenant)
        }
        (None, Some(org)) => {
            let adapters = migrated(config).await?;
            let settings = crate::wiring::Settings::from_config(config)?;
            (
                crate::wiring::build(&adapters, &settings)?,
                None,
                domain::TenantId::from_uuid(org),
            )
        }
        (None, None) => anyhow::bail!("give --ad-account or --organization"),
    };
    let format: ReportFormat = args
        .format
        .parse()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let separator = match args.decimal_separator.as_deref() {
        None => domain::reports::DecimalSeparator::Point,
        Some(s) => parse_separator(s)
            .ok_or_else(|| anyhow::anyhow!("--decimal-separator: point or comma"))?,
    };
    let req = ReportInput {
        kind: args.kind,
        ad_account_id: account,
        currency: args.currency,
        date: args.date,
        week: args.week,
        month: args.month,
        from: args.from,
        to: args.to,
    }
    .parse()
    .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    let built_report = built
        .build_report
        .build(tenant, req)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = file_name(req.kind, format, &built_report.name, built_report.period);
    let bytes = infrastructure::reports::DocumentRenderer::new()
        .render(
            &built_report.document,
            format,
            &RenderOptions {
                decimal_separator: separator,
            },
        )
        .context("rendering")?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(&name));
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    report(&format!("wrote {} ({} bytes)", out.display(), bytes.len()));
    Ok(())
}

/// `field: reason; …` for a command line.
fn describe(e: &domain::error::ValidationError) -> String {
    e.fields
        .iter()
        .map(|(field, reason)| format!("{field}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `adscale import`: the same use case as `POST /imports`, acting as `system`.
async fn import(config: &Config, args: &ImportArgs) -> anyhow::Result<()> {
    use domain::identity::{Actor, Principal};
    use indicatif::{ProgressBar, ProgressStyle};

    let (built, id, tenant) = with_account(config, args.ad_account).await?;
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar.set_message(format!("reading {}", args.file.display()));
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    bar.set_message(format!("importing {} bytes", bytes.len()));
    let actor = Actor {
        tenant_id: tenant,
        principal: Principal::System,
        role: Role::Owner,
    };
    let result = built
        .state
        .ingestion
        .import_csv
        .execute(&actor, id, &bytes)
        .await;
    bar.finish_and_clear();
    let run = result.map_err(|e| match e {
        application::AppError::Unprocessable {
            message, details, ..
        } => {
            anyhow::anyhow!("file refused: {message}\n{details:#}")
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    report(&format!(
        "imported {} rows ({} campaigns, {} ad sets, {} ads) for {} to {}: {} rows changed; sync run {}",
        run.counts.insights,
        run.counts.campaigns,
        run.counts.ad_sets,
        run.counts.ads,
        run.range.from(),
        run.range.to(),
        run.rows_changed,
        run.id
    ));
    Ok(())
}

/// Writes operator-facing output (not logs) to stdout.
pub(crate) fn report(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Where the embedded default keeps its files.
#[must_use]
pub fn data_dir(config: &Config) -> PathBuf {
    match &config.storage {
        crate::config::Storage::Sqlite { path } => {
            path.parent().map(PathBuf::from).unwrap_or_default()
        }
        crate::config::Storage::Postgres { .. } => PathBuf::from("."),
    }
}
