//! The node cache (`cargo bench -p tuatara-core --bench node_cache`): an account of
//! `BENCH_CACHE_NODES` nodes (1,000,000 by default, `mega-testserver`'s bulk seeding, in this
//! process) from a session to the first listing of one folder, three ways: fetching the tree
//! every time (as before the cache), a cold start (fetch, and the cache written), and a warm
//! start (the tree read from the cache, the event channel caught up). One more run of each
//! prints a table to stdout and `target/bench/node-cache.md`, with the cache's size on disk.

#![allow(clippy::print_stdout)] // The summary is the output of a bench.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use mega_api::{NodeHandle, Session, Tree};
use mega_testserver::support::{EMAIL, PASSWORD};
use tuatara_core::cache::{self, Origin};
use tuatara_core::Dirs;

const FILES_PER_FOLDER: usize = 1000;

fn nodes() -> usize {
    std::env::var("BENCH_CACHE_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

/// The names in the first folder of `/bulk`: the first listing.
fn listing(tree: &Tree) -> usize {
    let bulk = tree.resolve("/bulk").expect("/bulk");
    let first: NodeHandle = tree.children(bulk).next().expect("a folder").handle();
    tree.children(first).map(|n| n.name().len()).filter(|&l| l > 0).count()
}

async fn fetched(session: &Session) -> usize {
    listing(&session.fetch_tree().await.expect("the tree"))
}

async fn cold(dirs: &Dirs, session: &Session) -> usize {
    cache::remove(dirs, session.client().api_url(), session.email()).expect("the cache removed");
    let (tree, origin) = cache::load_tree(dirs, session).await.expect("the tree");
    assert_eq!(origin, Origin::Fetched);
    listing(&tree)
}

async fn warm(dirs: &Dirs, session: &Session) -> usize {
    let (tree, origin) = cache::load_tree(dirs, session).await.expect("the tree");
    assert_eq!(origin, Origin::Cache);
    listing(&tree)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let server = rt.block_on(test_support::server_with_account());
    let folders = (nodes() / (FILES_PER_FOLDER + 1)).max(1);
    server.seed_bulk(EMAIL, folders, FILES_PER_FOLDER).expect("seeded");
    let session = rt.block_on(test_support::session(&test_support::client(server.url()), EMAIL, PASSWORD));
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dirs = Dirs::new(tmp.path().join("config"), tmp.path().join("data"));

    let mut g = c.benchmark_group("node_cache");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    g.bench_function("fetch_every_time", |b| b.iter(|| rt.block_on(fetched(&session))));
    g.bench_function("cold_start", |b| b.iter(|| rt.block_on(cold(&dirs, &session))));
    g.bench_function("warm_start", |b| b.iter(|| rt.block_on(warm(&dirs, &session))));
    g.finish();
    c.final_summary();

    let timed = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        assert_eq!(f(), FILES_PER_FOLDER);
        t.elapsed().as_secs_f64()
    };
    let fetch = timed(&|| rt.block_on(fetched(&session)));
    let cold_s = timed(&|| rt.block_on(cold(&dirs, &session)));
    let warm_s = timed(&|| rt.block_on(warm(&dirs, &session)));
    let file = cache::path(&dirs, session.client().api_url(), session.email());
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", file.display())).ok())
        .map(|m| m.len())
        .sum();
    let table = format!(
        "## node cache: {} nodes, loopback mega-testserver, session to the first listing of one folder\n\n\
         | | seconds |\n|---|---|\n\
         | fetching the tree every time (before the cache) | {fetch:.2} |\n\
         | cold start (fetch, cache written) | {cold_s:.2} |\n\
         | warm start (from the cache, caught up) | {warm_s:.2} |\n\n\
         cache on disk: {:.1} MiB\n",
        folders * (FILES_PER_FOLDER + 1) + 4,
        size as f64 / (1 << 20) as f64,
    );
    print!("{table}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("node-cache.md"), &table);
    }
    rt.block_on(server.stop());
}
