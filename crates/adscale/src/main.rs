//! `adscale`: the server, its migrations and its operator commands.

use clap::Parser;

/// mimalloc: ingestion allocates and frees many short-lived JSON values per
/// page; glibc's allocator spent about a third of the sync's CPU on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("ignoring .env: {e}");
    }
    let cli = adscale::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(adscale::cli::run(cli))
}
