//! Thousands at once (`cargo bench -p tuatara-core --bench links_check`): 10,000 links read
//! from one links file and checked against a loopback `mega-testserver` in this process:
//! 8,500 alive, 1,000 removed (their folders deleted), 500 whose key does not fit, and a few
//! lines of junk that are no links. The file links go 64 `g` commands to a request through
//! mega-api's batcher. Criterion times a whole check (a fresh client each time); then one more
//! run prints its time, what it found and the peak RSS of this process while checking (the
//! in-process server included), to stdout and `target/bench/links-check.md`.

#![allow(clippy::print_stdout)] // The summary is the output of a bench.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;
use mega_api::Client;
use tuatara_core::links::{self, CheckOptions, LinkStatus};

const FOLDERS: usize = 100;
const PER_FOLDER: usize = 100;
/// Folders `ALIVE..REMOVED_TO` are deleted; the links of the rest get a key that does not fit.
const ALIVE: usize = 85;
const REMOVED_TO: usize = 95;

/// The links file: every file exported, then the removed and wrong-key ones made so.
fn seed(rt: &tokio::runtime::Runtime, server: &mega_testserver::TestServer, dir: &Path) -> std::path::PathBuf {
    let email = test_support::EMAIL;
    server.seed_bulk(email, FOLDERS, PER_FOLDER).expect("seeding");
    let mut lines = Vec::with_capacity(FOLDERS * PER_FOLDER + 3);
    for d in 0..FOLDERS {
        for f in 0..PER_FOLDER {
            let n = d * PER_FOLDER + f;
            let node = server.find(email, &format!("/bulk/dir-{d:05}/file-{n:07}.bin")).expect("a seeded file");
            let url = server.file_link(email, node).expect("a link");
            lines.push(if d >= REMOVED_TO {
                let (bare, _) = url.split_once('#').expect("a key");
                format!("{bare}#{}", "B".repeat(43))
            } else {
                url
            });
        }
    }
    lines.extend(["https://mega.nz/file/short#x".to_string(), "not a link".into(), "https://mega.nz/#!".into()]);
    rt.block_on(async {
        let client = test_support::client(server.url());
        let session = test_support::session(&client, email, test_support::PASSWORD).await;
        let mut tree = session.fetch_tree().await.expect("the tree");
        for d in ALIVE..REMOVED_TO {
            let h = tree.resolve(&format!("/bulk/dir-{d:05}")).expect("a folder");
            session.remove(&mut tree, h).await.expect("removing");
        }
    });
    let path = dir.join("links.txt");
    std::fs::write(&path, lines.join("\n")).expect("writing the links file");
    path
}

/// Reads the links file and checks every link in it.
async fn check_file(api_url: &str, path: &Path) -> Vec<links::Checked> {
    let client = Client::builder().api_url(api_url).build().expect("a client");
    let text = std::fs::read_to_string(path).expect("reading the links file");
    links::check_text(&client, &text, CheckOptions::default(), &mut |_| {}).await
}

/// The same file links opened as before batching, for comparison: one `g` to a request, four
/// requests at a time. How long it took.
async fn one_by_one(api_url: &str, path: &Path) -> Duration {
    use futures_util::{stream, StreamExt};
    let client = Client::builder().api_url(api_url).build().expect("a client");
    let text = std::fs::read_to_string(path).expect("reading the links file");
    let t = Instant::now();
    let file_links: Vec<mega_api::Link> = links::extract(&text)
        .into_iter()
        .filter_map(|p| match p {
            mega_proto::link::ParsedLink::Plain(l) => Some(l),
            mega_proto::link::ParsedLink::Protected(_) => None,
        })
        .collect();
    stream::iter(&file_links).map(|l| client.open_file_link(l)).buffered(4).count().await;
    t.elapsed()
}

/// `Vm...` of this process in kB, from `/proc/self/status`.
fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let server = rt.block_on(test_support::server_with_account());
    let tmp = tempfile::tempdir().expect("a temp dir");
    let seeding = Instant::now();
    let path = seed(&rt, &server, tmp.path());
    let seeded_in = seeding.elapsed();

    let mut g = c.benchmark_group("links_check");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    g.bench_function("10000_links_from_one_file", |b| b.iter(|| rt.block_on(check_file(server.url(), &path))));
    g.finish();
    c.final_summary();

    // One more run, measured by hand: the peak RSS reset first (`clear_refs` 5) so that it
    // is the checking's, not the seeding's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = vm("VmRSS:").unwrap_or(0);
    let t = Instant::now();
    let rows = rt.block_on(check_file(server.url(), &path));
    let took = t.elapsed();
    let peak = vm("VmHWM:").unwrap_or(0);
    let count = |s: LinkStatus| rows.iter().filter(|r| r.status == s).count();
    let (alive, removed, bad) = (count(LinkStatus::Alive), count(LinkStatus::Removed), count(LinkStatus::Bad));
    assert_eq!((rows.len(), alive, removed, bad), (10_000, 8_500, 1_000, 500), "what the check found");
    let g_stats = server.command_stats("g");
    let unbatched = rt.block_on(one_by_one(server.url(), &path));
    let table = format!(
        "## links check: 10,000 links from one file, loopback mega-testserver\n\n\
         | | |\n|---|---|\n\
         | checked in | {:.2} s ({:.0} links/s) |\n\
         | found | {alive} alive, {removed} removed, {bad} key does not fit |\n\
         | the same, one `g` to a request, 4 at a time (as before batching) | {:.2} s |\n\
         | peak RSS while checking | {} MiB (this process, the in-process server included; {} MiB before{}) |\n\
         | `g` per request (all runs) | {:.1} on average, {} at most |\n\
         | seeding 10,000 files and their links | {:.1} s |\n",
        took.as_secs_f64(),
        rows.len() as f64 / took.as_secs_f64(),
        unbatched.as_secs_f64(),
        peak / 1024,
        rss_before / 1024,
        if reset { "" } else { "; the peak could not be reset: it includes the seeding" },
        g_stats.commands as f64 / g_stats.requests.max(1) as f64,
        g_stats.largest,
        seeded_in.as_secs_f64(),
    );
    print!("{table}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("links-check.md"), &table);
    }
    rt.block_on(server.stop());
}
