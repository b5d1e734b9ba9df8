//! `adscale`: the server, its migrations and its operator commands.

use clap::Parser;

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
