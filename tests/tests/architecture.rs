//! The dependency direction is the architecture, checked with `cargo tree`:
//! what a crate pulls in when it is built on its own (as a user of it would),
//! normal dependencies only, for this machine's platform.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;

/// Every package `pkg` depends on at run time, transitively.
fn tree(pkg: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree", "-p", pkg, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != pkg)
        .map(str::to_owned)
        .collect()
}

const WORKSPACE: [&str; 5] = [
    "domain",
    "application",
    "infrastructure",
    "interface",
    "adscale",
];

fn inner(pkg: &str) -> BTreeSet<String> {
    tree(pkg)
        .into_iter()
        .filter(|d| WORKSPACE.contains(&d.as_str()))
        .collect()
}

#[test]
fn domain_pulls_in_no_framework() {
    let all = tree("domain");
    assert!(
        all.contains("rust_decimal"),
        "sanity: the tree was read ({all:?})"
    );
    for banned in [
        "actix-web",
        "diesel",
        "diesel-async",
        "redis",
        "deadpool-redis",
        "reqwest",
        "tokio",
        "utoipa",
        "application",
        "infrastructure",
        "interface",
    ] {
        assert!(!all.contains(banned), "domain depends on {banned}");
    }
}

#[test]
fn layers_only_point_inward() {
    assert_eq!(inner("application"), BTreeSet::from(["domain".to_owned()]));
    let app = tree("application");
    for banned in ["diesel", "redis", "actix-web", "reqwest", "utoipa"] {
        assert!(!app.contains(banned), "application depends on {banned}");
    }
    assert_eq!(
        inner("infrastructure"),
        BTreeSet::from(["application".to_owned(), "domain".to_owned()])
    );
    assert_eq!(
        inner("interface"),
        BTreeSet::from(["application".to_owned(), "domain".to_owned()])
    );
    assert!(
        !tree("interface").contains("diesel"),
        "the HTTP edge never touches SQL"
    );
}
