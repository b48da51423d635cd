//! Streaming over loopback (`cargo bench -p tuatara-core --bench stream`): a file of
//! `BENCH_STREAM_MB` MiB (1024 by default) on a `mega-testserver` in this process, served by
//! `tuatara-core`'s HTTP stream server as a player reads it. Criterion times the first byte
//! after a seek to about 10 %, 50 % and 90 % of the file (`Range: bytes=N-`, each time at a
//! position whose pieces are not cached: no cached or read-ahead piece answers it), and reading the whole file through the stream beside
//! a plain GET of its raw ciphertext from the storage server (the transport's limit, what curl
//! measures in `bench/bench.py`). One more run of each prints a table to stdout and
//! `target/bench/stream.md`. Goals (issue 18): first byte under 100 ms, sequential at 0.8x the
//! raw GET or better.

#![allow(clippy::print_stdout)] // The summary is the output of a bench.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use mega_transfer::{Engine, EngineConfig};
use tuatara_core::serve::{ServeOptions, Server, Target};

/// Seeks per position in the hand-measured run (their median is reported).
const SEEKS: u64 = 21;
/// How far apart successive seeks around one position are: beyond the read-ahead.
const STEP: u64 = 8 << 20;

fn size() -> u64 {
    std::env::var("BENCH_STREAM_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024) << 20
}

/// The `n`th seek position around `pct` % of the file: one of 20 slots 8 MiB apart in a
/// window of 160 MiB about the point (less in a smaller file), taken in a stride of 7 (each
/// seek lands 56 MiB from the last, beyond its read-ahead), so that a slot comes again only
/// after 19 others, whose pieces and read-ahead have pushed it out of the 64 MiB cache.
fn position(size: u64, pct: u64, n: u64) -> u64 {
    let window = (160 << 20).min(size);
    let start = (size / 100 * pct).saturating_sub(window / 2).min(size - window);
    let slots = (window / STEP).max(1);
    (start + (n * 7 % slots) * STEP + n % 4096).min(size - 1)
}

/// Time to the first byte of `Range: bytes=offset-`; the response is dropped after it.
async fn first_byte(http: &reqwest::Client, url: &str, offset: u64) -> Duration {
    let t = Instant::now();
    let mut r = http.get(url).header("Range", format!("bytes={offset}-")).send().await.expect("an answer");
    assert_eq!(r.status(), 206);
    let chunk = r.chunk().await.expect("a body").expect("a first chunk");
    assert!(!chunk.is_empty());
    t.elapsed()
}

/// Reads a whole body; its length.
async fn read_all(http: &reqwest::Client, url: &str) -> u64 {
    let mut r = http.get(url).send().await.expect("an answer");
    assert!(r.status().is_success(), "{}", r.status());
    let mut n = 0;
    while let Some(c) = r.chunk().await.expect("the body") {
        n += c.len() as u64;
    }
    n
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let size = size();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let server = rt.block_on(test_support::server_with_account());
    let local = tmp.path().join("film.bin");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&local).expect("a local file"));
        let block = test_support::content(1 << 20, 9);
        for _ in 0..size >> 20 {
            f.write_all(&block).expect("writing");
        }
    }
    let h = server.seed_file(test_support::EMAIL, "/film.bin", &local).expect("seeding");
    // The bench reads the file dozens of times: more than an account's hourly transfer quota.
    server.set_transfer_quota(test_support::EMAIL, u64::MAX).expect("the account");
    std::fs::remove_file(&local).expect("removing the local copy");
    let (stream, raw) = rt.block_on(async {
        let client = test_support::client(server.url());
        let session = test_support::session(&client, test_support::EMAIL, test_support::PASSWORD).await;
        let tree = session.fetch_tree().await.expect("the tree");
        let raw = session.download_url(h).await.expect("a storage URL").url;
        let engine =
            Engine::new(EngineConfig::new(tmp.path().join("journal")), client, Some(session), None).expect("an engine");
        let target = Target::own(tree, h).expect("the file");
        (Server::start(engine, target, ServeOptions::default()).await.expect("the server"), raw)
    });
    let url = stream.url().to_string();
    let http = reqwest::Client::new();

    let mut g = c.benchmark_group("stream_seek_first_byte");
    g.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    for pct in [10, 50, 90] {
        let mut n = 0;
        g.bench_function(format!("{pct}pct"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        n += 1;
                        total += first_byte(&http, &url, position(size, pct, n)).await;
                    }
                    total
                })
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("stream_sequential");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Bytes(size));
    g.bench_function("tuatara_stream", |b| b.iter(|| rt.block_on(read_all(&http, &url))));
    g.bench_function("raw_ciphertext_get", |b| b.iter(|| rt.block_on(read_all(&http, &raw))));
    g.finish();
    c.final_summary();

    // One more run of each, measured by hand, for the table.
    let seeks: Vec<(u64, Duration)> = [10, 50, 90]
        .into_iter()
        .map(|pct| {
            let times = rt.block_on(async {
                let mut v = Vec::new();
                for n in 0..SEEKS {
                    v.push(first_byte(&http, &url, position(size, pct, 1000 + n)).await);
                }
                v
            });
            (pct, median(times))
        })
        .collect();
    let timed = |u: &str| {
        let t = Instant::now();
        assert_eq!(rt.block_on(read_all(&http, u)), size);
        size as f64 / t.elapsed().as_secs_f64() / (1 << 20) as f64
    };
    let (streamed, plain) = (timed(&url), timed(&raw));
    let mut table = format!(
        "## streaming over loopback: a {} MiB file, `tuatara-core`'s HTTP stream server\n\n| | |\n|---|---|\n",
        size >> 20
    );
    for (pct, t) in &seeks {
        table.push_str(&format!(
            "| first byte after a seek to {pct} % (median of {SEEKS}) | {:.1} ms |\n",
            t.as_secs_f64() * 1000.0
        ));
    }
    table.push_str(&format!(
        "| sequential through the stream (decrypted) | {streamed:.0} MiB/s |\n\
         | sequential GET of the raw ciphertext | {plain:.0} MiB/s |\n\
         | stream / raw | {:.2}x |\n",
        streamed / plain
    ));
    print!("{table}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("stream.md"), &table);
    }
    rt.block_on(async {
        stream.stop().await;
        server.stop().await;
    });
}
