//! Command line: `serve`, `worker`, `migrate`, `import`, `seed-demo`, `user create`.

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
    let adapters = Adapters::connect(config).await?;
    adapters
        .pool
        .run_migrations()
        .await
        .context("applying migrations")?;
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

/// `adscale import`: the same use case as `POST /imports`, acting as `system`.
async fn import(config: &Config, args: &ImportArgs) -> anyhow::Result<()> {
    use domain::identity::{Actor, Principal};
    use domain::ingestion::AdAccountConnections;
    use indicatif::{ProgressBar, ProgressStyle};

    let adapters = Adapters::connect(config).await?;
    adapters
        .pool
        .run_migrations()
        .await
        .context("applying migrations")?;
    let settings = crate::wiring::Settings::from_config(config)?;
    let built = crate::wiring::build(&adapters, &settings)?;
    let id = domain::AdAccountId::from_uuid(args.ad_account);
    let tenant = adapters
        .db
        .tenant_of(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("ad account {} not found", args.ad_account))?;
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
