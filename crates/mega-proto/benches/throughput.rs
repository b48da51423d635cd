//! Content crypto and hashcash throughput (`cargo bench -p mega-proto`).
//!
//! Content: a 1 GiB file in MEGA's real chunk layout, on one core, three ways: AES-CTR alone,
//! CTR then the serial chunk MAC (what a straightforward client does), and the fused CTR +
//! interleaved MAC of `ChunkBatch`. Hashcash: a solve at easiness 192 on all cores beside plain
//! SHA-256 throughput on all cores. After criterion's own report, a summary table with MB/s and
//! the ratios (all measured in this run) goes to stdout and `target/bench/mega-proto.md`.

#![allow(clippy::print_stdout)] // The summary table is the output of a bench.

use std::time::{Duration, Instant};

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use mega_proto::chunks;
use mega_proto::content::ContentCipher;
use mega_proto::hashcash;
use sha2::{Digest, Sha256};

const FILE: usize = 1 << 30;

fn cipher() -> ContentCipher {
    ContentCipher::from_parts(&[0x42; 16], &[7, 6, 5, 4, 3, 2, 1, 0])
}

fn ctr_only(c: &ContentCipher, data: &mut [u8]) {
    for r in chunks::chunks(data.len() as u64) {
        c.apply_ctr(r.start, &mut data[r.start as usize..r.end as usize]);
    }
}

fn ctr_serial_mac(c: &ContentCipher, data: &mut [u8]) -> [u8; 8] {
    let mut macs = Vec::new();
    for r in chunks::chunks(data.len() as u64) {
        let chunk = &mut data[r.start as usize..r.end as usize];
        c.apply_ctr(r.start, chunk);
        macs.push(c.chunk_mac(chunk));
    }
    c.meta_mac(&macs)
}

fn ctr_interleaved_mac(c: &ContentCipher, data: &mut [u8]) -> [u8; 8] {
    let macs = c.decrypt_file(data);
    c.meta_mac(&macs)
}

type Variant = (&'static str, fn(&ContentCipher, &mut [u8]));

const VARIANTS: [Variant; 3] = [
    ("ctr_alone", |c, d| ctr_only(c, d)),
    ("ctr+serial_mac", |c, d| {
        black_box(ctr_serial_mac(c, d));
    }),
    ("ctr+interleaved_mac", |c, d| {
        black_box(ctr_interleaved_mac(c, d));
    }),
];

const TOKENS: usize = 8;

fn tokens() -> Vec<[u8; 48]> {
    (0..TOKENS).map(|t| std::array::from_fn(|i| (i * 37 + t * 101) as u8)).collect()
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// SHA-256 over one candidate's worth of data (12.6 MB) on every core at once; returns bytes/s.
fn sha256_all_cores(rounds: usize) -> f64 {
    let n = threads();
    let block = vec![0x5au8; 48 * 1024];
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..n {
            let block = &block;
            s.spawn(move || {
                for r in 0..rounds {
                    let mut h = Sha256::new();
                    h.update([t as u8, r as u8, 0, 0]);
                    for _ in 0..hashcash::REPEATS / 1024 {
                        h.update(block);
                    }
                    black_box(h.finalize());
                }
            });
        }
    });
    (n * rounds * (4 + 48 * hashcash::REPEATS)) as f64 / start.elapsed().as_secs_f64()
}

fn content(c: &mut Criterion) {
    let mut data = vec![0x33u8; FILE];
    let cc = cipher();
    let mut g = c.benchmark_group("content_1GiB_one_core");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Bytes(FILE as u64));
    for (name, f) in VARIANTS {
        g.bench_function(name, |b| b.iter(|| f(&cc, &mut data)));
    }
    g.finish();
}

fn hashcash_bench(c: &mut Criterion) {
    let toks = tokens();
    let mut g = c.benchmark_group("hashcash_all_cores");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(15));
    let mut i = 0;
    g.bench_function(BenchmarkId::new("solve", "easiness_192"), |b| {
        b.iter(|| {
            i += 1;
            hashcash::solve(&toks[i % TOKENS], 192, threads())
        })
    });
    g.throughput(Throughput::Bytes((threads() * (4 + 48 * hashcash::REPEATS)) as u64));
    g.bench_function("sha256_one_candidate_per_core", |b| b.iter(|| sha256_all_cores(1)));
    g.finish();
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// The ratio table, measured here in one run (criterion's numbers are above it).
fn summary() -> String {
    let mut data = vec![0x33u8; FILE];
    let cc = cipher();
    let mut out = String::new();
    out.push_str(&format!(
        "## mega-proto content crypto: 1 GiB in real chunk sizes, one core ({} runs each, median [min-max])\n\n",
        5
    ));
    out.push_str("| variant | MB/s | ratio to CTR alone |\n|---|---|---|\n");
    let mut base = 0.0;
    for (name, f) in VARIANTS {
        let mbs: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                f(&cc, &mut data);
                FILE as f64 / 1e6 / t.elapsed().as_secs_f64()
            })
            .collect();
        let (m, lo, hi) = median(mbs);
        if base == 0.0 {
            base = m;
        }
        out.push_str(&format!("| {name} | {m:.0} [{lo:.0}-{hi:.0}] | {:.2} |\n", m / base));
    }
    drop(data);
    let toks = tokens();
    let solves: Vec<f64> = toks
        .iter()
        .map(|t| {
            let s = Instant::now();
            black_box(hashcash::solve(t, 192, threads()));
            s.elapsed().as_secs_f64()
        })
        .collect();
    let (sm, slo, shi) = median(solves);
    let sha = sha256_all_cores(4);
    // At easiness 192, 1 prefix in 256 passes: about 256 candidates of 12.6 MB each.
    let expected = 256.0 * (4.0 + 48.0 * hashcash::REPEATS as f64) / sha;
    out.push_str(&format!(
        "\n## hashcash, all {} cores\n\n| measure | value |\n|---|---|\n\
         | solve at easiness 192 ({TOKENS} tokens) | {sm:.2} s [{slo:.2}-{shi:.2}] |\n\
         | SHA-256 on all cores | {:.0} MB/s |\n\
         | expected solve time from SHA-256 speed (256 candidates) | {expected:.2} s |\n",
        threads(),
        sha / 1e6
    ));
    out
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    content(&mut c);
    hashcash_bench(&mut c);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        let table = summary();
        print!("{table}");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join("mega-proto.md"), &table);
        }
    }
}
