//! Tree scale: how long fetching and decrypting a big tree takes, and how much memory the
//! client needs for it.
//!
//! `cargo run --release -p mega-api --example tree_scale [-- 100000 1000000]`
//!
//! For each size the example runs two child processes of itself: a test server seeded with
//! that many nodes (`/bulk`, 1,000 files per folder), and a client that logs in, fetches and
//! decrypts the tree, then reports its own time and peak RSS (VmHWM), so the server's memory
//! never counts.

#![allow(clippy::print_stdout, clippy::print_stderr)] // A command-line program: stdout is its interface.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

const EMAIL: &str = "scale@example.com";
const PASSWORD: &str = "scale";
const FILES_PER_FOLDER: usize = 1000;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The server child: seeds, prints its URL, serves until stdin closes.
async fn serve(nodes: usize) {
    let server = mega_testserver::TestServer::start().await.expect("server");
    server.add_user(EMAIL, PASSWORD, mega_testserver::Version::V2).expect("account");
    let folders = nodes.div_ceil(FILES_PER_FOLDER + 1).max(1);
    let t = Instant::now();
    server.seed_bulk(EMAIL, folders, FILES_PER_FOLDER).expect("seed");
    eprintln!("server: seeded {} nodes in {:.1?}", folders * (FILES_PER_FOLDER + 1) + 1, t.elapsed());
    println!("{}", server.url());
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .ok();
    server.stop().await;
}

/// The client child: logs in, fetches and decrypts, reports.
async fn client(url: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let client = mega_api::Client::builder().api_url(url).build().expect("client");
    let session = client.login(EMAIL, PASSWORD).await.expect("login").session().expect("no 2FA");
    let rss_before = status_kib("VmRSS:");
    let t = Instant::now();
    let tree = session.fetch_tree().await.expect("fetch");
    let elapsed = t.elapsed();
    let hwm = status_kib("VmHWM:");
    let rss_after = status_kib("VmRSS:");
    let undecrypted = tree.nodes().filter(|n| !n.is_decrypted()).count();
    let sample = tree.resolve("/bulk/dir-00000/file-0000000.bin").and_then(|h| tree.path(h));
    println!(
        "{} nodes: fetch+decrypt {:.2?}; client RSS before {:.0} MiB, after {:.0} MiB, peak {:.0} MiB \
         (tree ~{:.0} bytes/node); undecrypted {}; sample {:?}",
        tree.len(),
        elapsed,
        mib(rss_before),
        mib(rss_after),
        mib(hwm),
        (rss_after.saturating_sub(rss_before) * 1024) as f64 / tree.len() as f64,
        undecrypted,
        sample,
    );
}

fn run(sizes: &[usize]) {
    let me = std::env::current_exe().expect("own path");
    for &n in sizes {
        let mut server = Command::new(&me)
            .args(["--serve", &n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server child");
        let mut url = String::new();
        BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut url).expect("server URL");
        let status = Command::new(&me).args(["--client", url.trim()]).status().expect("client child");
        drop(server.stdin.take());
        let _ = server.wait();
        if !status.success() {
            eprintln!("client failed for {n} nodes");
            std::process::exit(1);
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => serve(args[1].parse().expect("node count")).await,
        Some("--client") => client(&args[1]).await,
        _ => {
            let sizes: Vec<usize> = if args.is_empty() {
                vec![100_000, 1_000_000]
            } else {
                args.iter().map(|a| a.parse().expect("node count")).collect()
            };
            tokio::task::spawn_blocking(move || run(&sizes)).await.expect("run");
        }
    }
}
