//! Transfer primitives: an upload sent chunk by chunk (out of order), finished with `p`, and
//! downloaded back with ranged fetches, MAC-verified; the transfer quota.

use mega_api::{chunk_span, verify_meta_mac, ChunkAck, ErrorKind, Fingerprint, UploadCipher};

use crate::support::{client, content, logged_in, EMAIL};

#[tokio::test]
async fn upload_with_primitives_and_download_ranges_verified() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    for size in [0usize, 1, 131_072, 131_073, 5 * 1024 * 1024 + 17] {
        let data = content(size, 0);
        let url = a.upload_url(size as u64).await.unwrap();
        let cipher = UploadCipher::new();
        // Encrypt everything, then send the chunks last to first: order must not matter.
        let ranges: Vec<_> = (0..chunk_count(size as u64)).map(|i| chunk_span(i..i + 1, size as u64)).collect();
        let mut macs = Vec::new();
        let mut bodies = Vec::new();
        for r in &ranges {
            let mut buf = data[r.start as usize..r.end as usize].to_vec();
            macs.extend(cipher.encrypt_chunks(r.start, &mut buf, size as u64).unwrap());
            bodies.push((r.start, buf));
        }
        if size == 0 {
            bodies.push((0, Vec::new()));
        }
        let mut token = None;
        let last = bodies.len() - 1;
        for (i, (offset, body)) in bodies.into_iter().rev().enumerate() {
            match a.client().send_chunk(&url, offset, body).await.unwrap() {
                ChunkAck::Done(tk) => {
                    assert_eq!(i, last, "the token comes with the last missing chunk");
                    token = Some(tk);
                }
                ChunkAck::Continue => assert!(i < last),
            }
        }
        let key = cipher.file_key(&macs);
        let fp = Fingerprint::of(&data, 1_650_000_000);
        let name = format!("f{size}.bin");
        let h = a.finish_upload(&mut t, root, &token.unwrap(), &name, &key, Some(&fp)).await.unwrap();
        let node = t.get(h).unwrap();
        assert_eq!((node.size(), node.mtime()), (size as u64, Some(1_650_000_000)));
        assert_eq!(node.fingerprint(), Some(fp));

        // Download in ranges of up to three chunks; every MAC checked at the end.
        let key = node.file_key().unwrap();
        let dl = a.download_url(h).await.unwrap();
        assert_eq!(dl.size, size as u64);
        let mut back = Vec::new();
        let mut got_macs = Vec::new();
        let n = chunk_count(size as u64);
        let mut i = 0;
        while i < n {
            let part = a.client().fetch_chunks(&dl, &key, i..(i + 3).min(n)).await.unwrap();
            assert_eq!(part.offset, back.len() as u64);
            back.extend_from_slice(&part.data);
            got_macs.extend(part.macs);
            i += 3;
        }
        assert_eq!(back, data, "size {size}");
        verify_meta_mac(&key, &got_macs).unwrap();
        if size > 16 {
            // A byte range off chunk boundaries is plain ciphertext.
            let raw = a.client().fetch_range(&dl.url, 5..21).await.unwrap();
            assert_eq!(raw.len(), 16);
            assert_ne!(raw, &data[5..21]);
        }
    }
    // The other session's view agrees.
    let fresh = a.fetch_tree().await.unwrap();
    let big = fresh.resolve(&format!("/f{}.bin", 5 * 1024 * 1024 + 17)).unwrap();
    assert_eq!(a.download_bytes(&fresh, big).await.unwrap(), content(5 * 1024 * 1024 + 17, 0));
    server.stop().await;
}

fn chunk_count(size: u64) -> u64 {
    (0..).take_while(|&i| chunk_span(i..i + 1, size).start < size).count() as u64
}

#[tokio::test]
async fn a_corrupt_key_fails_the_mac_and_quota_says_when_it_frees() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    let h = a.upload_bytes(&mut t, root, "q.bin", &content(300_000, 0), 0).await.unwrap();
    let dl = a.download_url(h).await.unwrap();
    let mut key = t.get(h).unwrap().file_key().unwrap();
    key.meta_mac[0] ^= 1;
    assert_eq!(a.client().download_all(&dl, &key).await.unwrap_err().kind(), ErrorKind::Crypto);

    server.set_transfer_quota(EMAIL, 1000).unwrap();
    let err = a.download_bytes(&t, h).await.unwrap_err();
    match err.kind() {
        ErrorKind::Quota { time_left } => assert!(time_left.is_some_and(|d| d.as_secs() > 0)),
        k => panic!("expected a quota error, got {k:?}: {err}"),
    }
    assert!(!err.is_temporary());
    // Anonymous clients get the same from public links.
    let link = a.export(&mut t, h).await.unwrap();
    server.set_anonymous_transfer_quota(10);
    let anon = client(server.url());
    let file = anon.open_file_link(&link).await.unwrap();
    let dl = anon.public_download_url(file.handle).await.unwrap();
    assert!(matches!(anon.download_all(&dl, file.key()).await.unwrap_err().kind(), ErrorKind::Quota { .. }));
    server.stop().await;
}

/// Commands sent at the same time share requests: every caller gets its own result (a node
/// that does not exist fails alone), and the server saw fewer requests than commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transfer_commands_share_requests_with_their_own_results() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    let mut handles = Vec::new();
    for i in 0..6u8 {
        let name = format!("s{i}.bin");
        handles.push(a.upload_bytes(&mut t, root, &name, &[i; 100], 1_650_000_000).await.unwrap());
    }
    let gone = mega_api::NodeHandle([9, 9, 9, 9, 9, 9]);
    let mut asks: Vec<_> = handles.iter().chain(std::iter::once(&gone)).cycle().take(70).copied().collect();
    asks.rotate_left(3);
    let before = server.command_stats("g");
    let results = futures_util::future::join_all(asks.iter().map(|h| a.download_url(*h))).await;
    for (h, r) in asks.iter().zip(&results) {
        match r {
            Ok(url) => assert!(*h != gone && url.size == 100),
            Err(e) => assert!(*h == gone && e.kind() == ErrorKind::NotFound, "{h}: {e}"),
        }
    }
    let g = server.command_stats("g");
    assert_eq!(g.commands - before.commands, 70);
    assert!(g.requests - before.requests < 70 && g.largest > 1, "not batched: {g:?}");
    // Upload URLs too, each its own.
    let urls = futures_util::future::join_all((0..10).map(|i| a.upload_url(10 + i))).await;
    let mut urls: Vec<String> = urls.into_iter().map(Result::unwrap).collect();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 10);
    server.stop().await;
}

/// A ranged download opened as a stream hands its whole chunks over as they arrive: on a slow
/// connection, in several parts (each on chunk boundaries, in order, with one MAC per chunk),
/// and together byte for byte what one request gives, every MAC verifying; on a fast one with
/// a long patience, all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_chunks_arrive_in_parts_that_make_up_the_file() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    let size = 3 * 1024 * 1024 + 99;
    let data = content(size, 0);
    let h = a.upload_bytes(&mut t, root, "streamed.bin", &data, 1_650_000_000).await.unwrap();
    let key = t.get(h).unwrap().file_key().unwrap();
    let dl = a.download_url(h).await.unwrap();
    let n = chunk_count(size as u64);
    let whole = a.client().fetch_chunks(&dl, &key, 0..n).await.unwrap();
    // 1 MiB/s: about three seconds, handed over every 100 ms as chunks complete.
    server.set_throttle(Some(1 << 20), None);
    let parts = streamed(a.client(), &dl, &key, n, 100).await;
    assert!(parts.len() > 2, "{} parts", parts.len());
    let (mut back, mut macs) = (Vec::new(), Vec::new());
    for p in &parts {
        assert_eq!(p.offset, back.len() as u64);
        assert!(!p.macs.is_empty());
        back.extend_from_slice(&p.data);
        macs.extend(p.macs.iter().copied());
    }
    assert!(back == data && back == whole.data);
    assert_eq!(macs, whole.macs);
    verify_meta_mac(&key, &macs).unwrap();
    server.set_throttle(None, None);
    let parts = streamed(a.client(), &dl, &key, n, 60_000).await;
    assert_eq!(parts.len(), 1);
    assert!(parts[0].data == data);
    server.stop().await;
}

async fn streamed(
    client: &mega_api::Client,
    dl: &mega_api::DownloadUrl,
    key: &mega_api::FileKey,
    chunks: u64,
    patience_ms: u64,
) -> Vec<mega_api::Chunks> {
    let patience = std::time::Duration::from_millis(patience_ms);
    let mut stream = client.open_chunks(dl, key, 0..chunks, patience).await.unwrap();
    let mut parts = Vec::new();
    while let Some(c) = stream.next().await.unwrap() {
        // The caller's storage goes back to the stream, scribbled over: what comes next must
        // not depend on what it held.
        let mut storage = c.data.clone();
        storage.fill(0xA5);
        parts.push(c);
        stream.recycle(storage);
    }
    if let Some(b) = stream.into_buffer() {
        assert!(b.capacity() > 0);
    }
    parts
}
