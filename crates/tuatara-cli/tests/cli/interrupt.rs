//! kill -9 of the CLI at random points of a 256 MiB download and a 256 MiB upload, 20 times
//! each, then the same command again or `resume`: the journal entry is continued (never a
//! second one beside it), and what arrives is byte for byte what was sent. Downloads are
//! MAC-checked by the engine before they get their name; the upload is fetched back (MAC-checked
//! the same way) and compared by SHA-256 with the source. After the download's kills, the run
//! that finishes it asks the server for exactly the bytes the journal does not hold (the server
//! counts every range it is asked for): only the missing chunks are fetched.
//!
//! The server is throttled so that every kill lands mid-transfer without long sleeps: 256 MiB
//! at 16 MiB/s take 16 s, and twenty runs of 0.25-1.0 s (part of which is the CLI starting)
//! move well under that. The kill points come from a seeded generator; the seed is printed,
//! and `KILL_SEED=N` repeats a run.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use test_support::server_with_account;

use crate::support::{content, Cli, EMAIL, PASSWORD};

const SIZE: usize = 256 << 20;
const KILLS: usize = 20;
const RATE: u64 = 16 << 20;

/// splitmix64: small, seeded, good enough to spread kill points.
struct Rng(u64);

impl Rng {
    fn from_env() -> Self {
        let seed = std::env::var("KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("kill points from KILL_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay between 250 and 1000 ms.
    fn delay(&mut self) -> Duration {
        Duration::from_millis(250 + self.next() % 750)
    }
}

fn sha256_file(path: &Path) -> [u8; 32] {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return h.finalize().into();
        }
        h.update(&buf[..n]);
    }
}

/// How many unfinished jobs the journal lists (more than one means a repeated command started
/// over beside its old entry instead of continuing it), and the bytes it holds as done.
async fn unfinished(cli: &Cli) -> (usize, u64) {
    let listed = cli.run(&["--json", "transfers"]).await.json();
    let jobs = listed.as_array().unwrap();
    assert!(jobs.len() <= 1, "the journal holds {} entries for one file: the same command started over", jobs.len());
    (jobs.len(), jobs.iter().map(|j| j["done"].as_u64().unwrap()).sum())
}

/// Runs the CLI and SIGKILLs it after `wait` (unless it ended before).
async fn kill_after(cli: &Cli, args: &[&str], wait: Duration) {
    let mut child = cli.command(args).spawn().unwrap();
    tokio::select! {
        _ = child.wait() => {}
        _ = tokio::time::sleep(wait) => {
            child.start_kill().unwrap(); // SIGKILL
            child.wait().await.unwrap();
        }
    }
}

/// Kills `command` (even rounds) and `resume` (odd rounds) `KILLS` times; returns how many
/// kills left an unfinished job.
async fn kill_repeatedly(cli: &Cli, command: &[&str], rng: &mut Rng) -> usize {
    let mut landed = 0;
    for i in 0..KILLS {
        let args: &[&str] = if i % 2 == 0 { command } else { &["resume"] };
        kill_after(cli, args, rng.delay()).await;
        landed += unfinished(cli).await.0;
    }
    landed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_transfers_continue_and_arrive_intact() {
    let mut rng = Rng::from_env();
    let server = server_with_account().await;
    let tmp = tempfile::tempdir().unwrap();
    let down_digest: [u8; 32] = {
        let data = content(SIZE, 7);
        server.seed_bytes(EMAIL, "/big-down.bin", &data, 1_700_000_000).unwrap();
        Sha256::digest(&data).into()
    };
    server.set_throttle(Some(RATE), None);
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let dl = tmp.path().join("dl");
    let dl_s = dl.to_string_lossy().into_owned();

    // Download: killed again and again, each time continued by the same `get` (which must find
    // its journal entry) or by `resume`.
    let landed = kill_repeatedly(&cli, &["get", "/big-down.bin", &dl_s, "--connections", "4"], &mut rng).await;
    eprintln!("download: {landed} of {KILLS} kills left an unfinished job");
    assert!(landed >= KILLS / 2, "only {landed} kills landed mid-download: the test did not test much");
    // What the journal holds is not fetched again: the same command asks the server for
    // exactly the missing bytes.
    let (jobs, done) = unfinished(&cli).await;
    assert!(jobs == 1 && done > 0 && done < SIZE as u64, "after the kills: {jobs} jobs, {done} bytes done");
    server.set_throttle(None, None);
    let before = server.transfer_used(EMAIL).unwrap();
    cli.run(&["get", "/big-down.bin", &dl_s]).await.ok();
    let fetched = server.transfer_used(EMAIL).unwrap() - before;
    assert_eq!(fetched, SIZE as u64 - done, "the last run fetched more than the {} missing bytes", SIZE as u64 - done);
    assert_eq!(unfinished(&cli).await.0, 0, "the finished download left its journal entry");
    assert!(sha256_file(&dl.join("big-down.bin")) == down_digest, "the download differs after {KILLS} kills");
    let names: Vec<_> = std::fs::read_dir(&dl).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["big-down.bin"], "one file, no leftovers or copies");
    std::fs::remove_dir_all(&dl).unwrap();

    // Upload: the same.
    let local = tmp.path().join("big-up.bin");
    std::fs::write(&local, content(SIZE, 8)).unwrap();
    let up_digest = sha256_file(&local);
    let local_s = local.to_string_lossy().into_owned();
    server.set_throttle(Some(RATE), None);
    let landed = kill_repeatedly(&cli, &["put", &local_s, "/"], &mut rng).await;
    eprintln!("upload: {landed} of {KILLS} kills left an unfinished job");
    assert!(landed >= KILLS / 2, "only {landed} kills landed mid-upload: the test did not test much");
    server.set_throttle(None, None);
    cli.run(&["resume"]).await.ok();
    cli.run(&["put", &local_s, "/"]).await.ok();
    // One node, not a second copy from a restarted upload.
    let listed = cli.run(&["ls"]).await.ok().lines().iter().filter(|l| **l == "big-up.bin").count();
    assert_eq!(listed, 1);
    // Fetched back: the engine checks the meta-MAC the upload computed, then the bytes.
    let back = tmp.path().join("back");
    cli.run(&["get", "/big-up.bin", &back.to_string_lossy()]).await.ok();
    assert!(sha256_file(&back.join("big-up.bin")) == up_digest, "the upload differs after {KILLS} kills");
    server.stop().await;
}
