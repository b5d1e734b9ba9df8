//! The AdScale binary's library half: configuration, wiring, telemetry and the
//! commands. `main.rs` only parses the command line; tests reuse the wiring.

pub mod cli;
pub mod config;
pub mod seed;
pub mod serve;
pub mod telemetry;
pub mod wiring;
