//! Streaming (issue 18) against `mega-testserver`: random ranges of files of awkward sizes
//! compared byte for byte, a seek into the last chunk, many readers at once, every kind of
//! source (own drive, incoming share, file link, file in a folder link), expired URLs and
//! server faults mid-stream, quota waits reported, and the meta-MAC verdict.

use std::ops::Range;
use std::time::Duration;

use mega_api::NodeHandle;
use mega_testserver::faults::Faults;
use mega_transfer::journal::Source;
use mega_transfer::{Event, Integrity, StreamFile, TransferError};
use test_support::{content, Config, Drive as Ctx, Version, EMAIL};

use crate::support::Engines;

/// Every byte of `range` of a stream.
async fn read(file: &StreamFile, range: Range<u64>) -> Result<Vec<u8>, TransferError> {
    let mut r = file.reader(range);
    let mut out = Vec::new();
    while let Some(b) = r.next().await? {
        out.extend_from_slice(&b);
    }
    Ok(out)
}

/// A small deterministic generator of offsets (xorshift).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n == 0 {
            0
        } else {
            self.0 % n
        }
    }

    fn range(&mut self, size: u64) -> Range<u64> {
        let a = self.below(size + 1);
        let b = self.below(size + 1);
        a.min(b)..a.max(b)
    }
}

/// An own file of the drive opened for streaming.
async fn own(ctx: &Ctx, engine: &mega_transfer::Engine, path: &str) -> StreamFile {
    let h = ctx.node(path).await;
    let tree = ctx.tree.lock().await;
    let n = tree.node(h).unwrap();
    engine.open_stream(Source::Own { node: h.to_b64() }, &n.file_key().unwrap(), n.size())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_ranges_of_awkward_sizes_match_byte_for_byte() {
    let ctx = Ctx::new(Config::default()).await;
    let sizes = [0, 1, 16, (128 << 10) - 1, 128 << 10, (128 << 10) + 1, (5 << 20) + 17];
    for (i, &size) in sizes.iter().enumerate() {
        ctx.server.seed_bytes(EMAIL, &format!("/s/{size}.bin"), &content(size as usize, i as u8), 1).unwrap();
    }
    let engine = ctx.engine(|_| {});
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    for (i, &size) in sizes.iter().enumerate() {
        let data = content(size as usize, i as u8);
        let file = own(&ctx, &engine, &format!("/s/{size}.bin")).await;
        assert_eq!(file.size(), size);
        for _ in 0..12 {
            let r = dice.range(size);
            let got = read(&file, r.clone()).await.unwrap();
            assert!(got == data[r.start as usize..r.end as usize], "size {size}, range {r:?}");
        }
        // Ranges past the end are cut to it.
        assert_eq!(read(&file, size..size + 10).await.unwrap(), b"");
        assert_eq!(read(&file, 0..u64::MAX).await.unwrap(), data, "size {size}, whole");
        assert_eq!(file.integrity(), Integrity::Verified, "size {size}: every byte was read");
    }
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seek_into_the_last_chunk_reads_only_it_and_stays_unverified() {
    let ctx = Ctx::new(Config::default()).await;
    let size = (17 << 20) + 17;
    let data = content(size, 3);
    ctx.server.seed_bytes(EMAIL, "/big.bin", &data, 1).unwrap();
    let engine = ctx.engine(|_| {});
    let file = own(&ctx, &engine, "/big.bin").await;
    let used = || ctx.server.transfer_used(EMAIL).unwrap_or(0);
    let before = used();
    let start = size as u64 - 5;
    assert_eq!(read(&file, start..size as u64).await.unwrap(), &data[size - 5..]);
    // One piece (whole chunks, a few MiB at most): nowhere near the file.
    let fetched = used() - before;
    assert!(fetched <= mega_transfer::stream::PIECE_SIZE, "{fetched} bytes fetched for 5");
    assert!(matches!(file.integrity(), Integrity::Unverified { seen, chunks } if seen < chunks));
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_readers_at_once_share_the_file() {
    let ctx = Ctx::new(Config::default()).await;
    let size = (6 << 20) + 17;
    let data = std::sync::Arc::new(content(size, 4));
    ctx.server.seed_bytes(EMAIL, "/many.bin", &data, 1).unwrap();
    let engine = ctx.engine(|_| {});
    let file = own(&ctx, &engine, "/many.bin").await;
    let mut dice = Dice(7);
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            // Half read from the start to the end, half a random range; opened again each time.
            let r = if n % 2 == 0 { 0..size as u64 } else { dice.range(size as u64) };
            let (file, data) = (file.clone(), data.clone());
            tokio::spawn(async move {
                let got = read(&file, r.clone()).await.unwrap();
                assert!(got == data[r.start as usize..r.end as usize], "range {r:?}");
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(file.integrity(), Integrity::Verified);
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_urls_and_server_faults_mid_stream_are_survived() {
    let ctx = Ctx::new(Config::default()).await;
    // Larger than the first piece and its read-ahead: pieces are still to come after them.
    let size = (30 << 20) + 17;
    let data = content(size, 5);
    ctx.server.seed_bytes(EMAIL, "/f.bin", &data, 1).unwrap();
    let engine = ctx.engine(|_| {});
    let mut events = engine.subscribe();
    let file = own(&ctx, &engine, "/f.bin").await;
    // The first piece read cleanly; then every URL is expired for a while (the stream asks for
    // new ones), then the server breaks bodies mid-way and answers 500 now and then.
    let mut r = file.reader(0..size as u64);
    let mut got = r.next().await.unwrap().unwrap().to_vec();
    let urls_before = ctx.server.command_stats("g").commands;
    ctx.server.set_faults(Faults { expired: 1.0, ..Faults::default() });
    let rest = tokio::spawn(async move {
        while let Some(b) = r.next().await.unwrap() {
            got.extend_from_slice(&b);
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    ctx.server.set_faults(Faults { reset: 0.15, truncate: 0.15, http500: 0.15, ..Faults::default() });
    let got = rest.await.unwrap();
    ctx.server.set_faults(Faults::default());
    assert!(got == data, "the stream survived the faults byte for byte");
    assert_eq!(file.integrity(), Integrity::Verified);
    let retried = std::iter::from_fn(|| events.try_recv().ok()).filter(|e| matches!(e, Event::Retrying { .. })).count();
    assert!(retried >= 1, "the expired URLs were met and said");
    assert!(ctx.server.command_stats("g").commands > urls_before, "a new URL was asked for");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_waits_out_the_transfer_quota_and_says_so() {
    let ctx = Ctx::new(Config::default()).await;
    let data = content(8 << 20, 6);
    ctx.server.seed_bytes(EMAIL, "/q.bin", &data, 1).unwrap();
    let engine = ctx.engine(|_| {});
    let mut events = engine.subscribe();
    let file = own(&ctx, &engine, "/q.bin").await;
    // One piece per 2-second window: the file needs about three windows.
    ctx.server.set_transfer_quota(EMAIL, 4 << 20).unwrap();
    ctx.server.set_quota_window(Duration::from_secs(2));
    assert!(read(&file, 0..8 << 20).await.unwrap() == data);
    let waits = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| matches!(e, Event::Waiting { reason: mega_transfer::WaitReason::TransferQuota, .. }))
        .count();
    assert!(waits >= 1, "the stream said it was waiting for the quota");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_content_read_to_the_end_fails_the_meta_mac() {
    let ctx = Ctx::new(Config::default()).await;
    let size = (2 << 20) + 17;
    ctx.server.seed_bytes(EMAIL, "/bad.bin", &content(size, 7), 1).unwrap();
    ctx.server.corrupt_stored_content(EMAIL, "/bad.bin", 1000).unwrap();
    let engine = ctx.engine(|_| {});
    let file = own(&ctx, &engine, "/bad.bin").await;
    // A part is handed over (it cannot be checked yet); the end of the file says it is damaged.
    assert_eq!(read(&file, 0..10).await.unwrap().len(), 10);
    let e = read(&file, 0..size as u64).await.unwrap_err();
    assert!(matches!(e, TransferError::Api(mega_api::Error::Mac)), "{e}");
    assert_eq!(file.integrity(), Integrity::Mismatch);
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_file_links_and_folder_links_stream_too() {
    let ctx = Ctx::new(Config::default()).await;
    let data = content((1 << 20) + 17, 8);
    ctx.server.add_user("bob@example.com", "pw", Version::V2).unwrap();
    ctx.server.seed_bytes("bob@example.com", "/team/plan.bin", &data, 1).unwrap();
    ctx.server.share_folder("bob@example.com", "/team", EMAIL, 0).unwrap();
    let h = ctx.server.seed_bytes(EMAIL, "/pub/a.bin", &data, 1).unwrap();
    let engine = ctx.engine(|_| {});
    let mid = 300_000..700_000u64;
    let want = &data[mid.start as usize..mid.end as usize];

    // An incoming share.
    let shared = own(&ctx, &engine, "//shares/team/plan.bin").await;
    assert!(read(&shared, mid.clone()).await.unwrap() == want);

    // A file link, without an account.
    let link = mega_proto::link::parse_plain(&ctx.server.file_link(EMAIL, h).unwrap()).unwrap();
    let public = ctx.session.client().open_file_link(&link).await.unwrap();
    let file = engine.open_stream(Source::Public { handle: link.handle.to_b64() }, public.key(), public.size);
    assert!(read(&file, mid.clone()).await.unwrap() == want);

    // A file inside a folder link.
    let url = ctx.server.folder_link(EMAIL, "/pub").unwrap();
    let link = mega_proto::link::parse_plain(&url).unwrap();
    let folder = ctx.session.client().open_folder_link(&link).unwrap();
    let tree = folder.fetch_tree().await.unwrap();
    let node: NodeHandle = tree.children(tree.root().unwrap()).next().unwrap().handle();
    let n = tree.node(node).unwrap();
    let source = Source::InFolderLink { link: link.to_url(), node: node.to_b64() };
    let file = engine.open_stream(source, &n.file_key().unwrap(), n.size());
    assert!(read(&file, mid.clone()).await.unwrap() == want);
    assert!(read(&file, 0..data.len() as u64).await.unwrap() == data);
    assert_eq!(file.integrity(), Integrity::Verified);
    ctx.server.stop().await;
}
