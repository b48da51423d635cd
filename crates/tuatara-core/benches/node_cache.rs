//! The node cache (`cargo bench -p tuatara-core --bench node_cache`): an account of
//! `BENCH_CACHE_NODES` nodes (1,000,000 by default, `mega-testserver`'s bulk seeding, in this
//! process) from a session to the first listing of one folder, four ways: fetching the tree
//! every time (as before the cache), a cold start (fetch, and the cache written), a warm start
//! reading one folder's pages (the CLI's `ls`), and a warm start reading the whole tree (the
//! app's sign-in); each warm start catches up with the event channel. Peak memory and the
//! start after 10,000 changes are measured on the real processes by `bench/bench.py`. One more run of each
//! prints a table to stdout and `target/bench/node-cache.md`, with the cache's size on disk.

#![allow(clippy::print_stdout)] // The summary is the output of a bench.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use mega_api::{NodeHandle, Session, Tree};
use mega_testserver::support::{EMAIL, PASSWORD};
use tuatara_core::cache::{self, CachedTree, Origin};
use tuatara_core::Dirs;

const FILES_PER_FOLDER: usize = 1000;

/// The folder listed.
const FOLDER: &str = "/bulk/dir-00000";

fn nodes() -> usize {
    std::env::var("BENCH_CACHE_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

/// The names in the folder listed: the first listing.
fn listing(tree: &Tree) -> usize {
    let folder: NodeHandle = tree.resolve(FOLDER).expect("the folder");
    tree.children(folder).map(|n| n.name().len()).filter(|&l| l > 0).count()
}

async fn fetched(session: &Session) -> usize {
    listing(&session.fetch_tree().await.expect("the tree"))
}

/// As the CLI's `ls FOLDER` reads its tree.
async fn one_folder(dirs: &Dirs, session: &Session, want: Origin) -> usize {
    let mut cached = CachedTree::open(dirs, session).await.expect("the tree");
    assert_eq!(cached.origin(), want);
    cached.load_path(session, FOLDER).await.expect("the folder read");
    listing(&cached.into_tree())
}

async fn cold(dirs: &Dirs, session: &Session) -> usize {
    cache::remove(dirs, session.client().api_url(), session.email()).expect("the cache removed");
    one_folder(dirs, session, Origin::Fetched).await
}

/// As the app signs in: the whole tree, the cache kept open for the event follower.
async fn whole(dirs: &Dirs, session: &Session) -> usize {
    let cached = CachedTree::open(dirs, session).await.expect("the tree");
    assert_eq!(cached.origin(), Origin::Cache);
    let (tree, writer) = cached.into_followed(session).await.expect("the whole tree");
    assert!(writer.is_some());
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
    g.bench_function("warm_start_one_folder", |b| b.iter(|| rt.block_on(one_folder(&dirs, &session, Origin::Cache))));
    g.bench_function("warm_start_whole_tree", |b| b.iter(|| rt.block_on(whole(&dirs, &session))));
    g.finish();
    c.final_summary();

    let timed = |f: &dyn Fn() -> usize| {
        let t = Instant::now();
        assert_eq!(f(), FILES_PER_FOLDER);
        t.elapsed().as_secs_f64()
    };
    let fetch = timed(&|| rt.block_on(fetched(&session)));
    let cold_s = timed(&|| rt.block_on(cold(&dirs, &session)));
    let warm_s = timed(&|| rt.block_on(one_folder(&dirs, &session, Origin::Cache)));
    let whole_s = timed(&|| rt.block_on(whole(&dirs, &session)));
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
         | warm start, one folder read (the CLI's `ls`) | {warm_s:.3} |\n\
         | warm start, whole tree read (the app's sign-in) | {whole_s:.2} |\n\n\
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
