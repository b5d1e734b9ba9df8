//! Command line: `serve`, `migrate`, `seed-demo`, `user create`.

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
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load deterministic demo data and print the demo logins and API keys.
    SeedDemo(crate::seed::SeedArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
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
