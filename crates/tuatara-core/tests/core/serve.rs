//! Streaming for the faces (issue 18): `cat` of byte ranges, and the local HTTP server: an
//! index, `Range`/`HEAD`/`ETag`/`Content-Type`, file and folder links, a server fault
//! mid-stream; a wrong token, a foreign `Host` and a non-loopback address refused; the app's
//! server of many files, serving only while a session is open.

use std::net::SocketAddr;

use mega_api::Tree;
use mega_testserver::faults::Faults;
use mega_transfer::{Engine, EngineConfig, Integrity};
use reqwest::header;
use test_support::{content, Config, Drive, EMAIL};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tuatara_core::serve::{self, FileTarget, ServeOptions, Server, Streams, Target};

fn engine(d: &Drive) -> Engine {
    let config = EngineConfig::new(d.tmp.path().join("journal"));
    Engine::new(config, d.session.client().clone(), Some(d.session.clone()), Some(d.tree.clone())).unwrap()
}

async fn tree(d: &Drive) -> Tree {
    d.session.fetch_tree().await.unwrap()
}

async fn own(d: &Drive, path: &str) -> Target {
    let h = d.node(path).await;
    Target::own(tree(d).await, h).unwrap()
}

/// A raw HTTP/1.1 request with this `Host`: the status line's code.
async fn status_with_host(addr: SocketAddr, path: &str, host: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_writes_any_range_and_verifies_a_whole_read() {
    let d = Drive::new(Config::default()).await;
    // Larger than one piece: a part read leaves chunks unread.
    let size = (9 << 20) + 17;
    let data = content(size, 1);
    d.server.seed_bytes(EMAIL, "/v/clip.mp4", &data, 1).unwrap();
    let engine = engine(&d);
    let file = own(&d, "/v/clip.mp4").await.into_file().unwrap();
    let mut out = Vec::new();
    let r = serve::cat(&engine, &file, 1_000_000, Some(70_000), &mut out).await.unwrap();
    assert_eq!(out, &data[1_000_000..1_070_000]);
    assert!(matches!(r.integrity, Integrity::Unverified { .. }), "{r:?}");
    let mut out = Vec::new();
    let r = serve::cat(&engine, &file, 0, None, &mut out).await.unwrap();
    assert!(out == data);
    assert_eq!((r.bytes, r.integrity), (size as u64, Integrity::Verified));
    let mut out = Vec::new();
    let r = serve::cat(&engine, &file, size as u64 + 5, None, &mut out).await.unwrap();
    assert_eq!(r.bytes, 0);
    assert!(own(&d, "/v").await.into_file().is_err(), "a folder is not a file to cat");
    d.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_served_with_an_index_ranges_head_and_etags() {
    let d = Drive::new(Config::default()).await;
    let big = content((2 << 20) + 17, 2);
    d.server.seed_bytes(EMAIL, "/m/clip one.mp4", &big, 1).unwrap();
    d.server.seed_bytes(EMAIL, "/m/notes.txt", b"hello", 1).unwrap();
    d.server.seed_bytes(EMAIL, "/m/empty.bin", b"", 1).unwrap();
    d.server.seed_bytes(EMAIL, "/m/sub/deep.txt", b"deep", 1).unwrap();
    let server = Server::start(engine(&d), own(&d, "/m").await, ServeOptions::default()).await.unwrap();
    let base = server.base_url().to_string();
    assert_eq!(server.url(), base);
    assert!(base.starts_with(&format!("http://127.0.0.1:{}/", server.addr().port())));
    let http = reqwest::Client::new();

    let index = http.get(&base).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let index = index.text().await.unwrap();
    for href in ["href=\"clip%20one%2Emp4\"", "href=\"notes%2Etxt\"", "href=\"sub/\"", "href=\"empty%2Ebin\""] {
        assert!(index.contains(href), "{href} in {index}");
    }
    let sub = http.get(format!("{base}sub")).send().await.unwrap();
    assert_eq!(sub.url().as_str(), format!("{base}sub/"), "a folder without its slash is redirected");
    assert!(sub.text().await.unwrap().contains("deep%2Etxt"));
    assert_eq!(http.get(format!("{base}sub/deep.txt")).send().await.unwrap().text().await.unwrap(), "deep");

    let url = format!("{base}clip%20one.mp4");
    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(head.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(head.headers()[header::CONTENT_LENGTH], big.len().to_string().as_str());
    let etag = head.headers()[header::ETAG].clone();
    assert!(etag.to_str().unwrap().starts_with('"'));

    for (asked, want) in [
        ("bytes=0-0", 0..1),
        ("bytes=1000-200000", 1000..200_001),
        ("bytes=2000000-", 2_000_000..big.len()),
        ("bytes=-17", big.len() - 17..big.len()),
    ] {
        let r = http.get(&url).header(header::RANGE, asked).send().await.unwrap();
        assert_eq!(r.status(), 206, "{asked}");
        let content_range = format!("bytes {}-{}/{}", want.start, want.end - 1, big.len());
        assert_eq!(r.headers()[header::CONTENT_RANGE], content_range.as_str());
        assert!(r.bytes().await.unwrap() == big[want.clone()], "{asked}");
    }
    let r = http.get(&url).header(header::RANGE, "bytes=99999999-").send().await.unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()[header::CONTENT_RANGE], format!("bytes */{}", big.len()).as_str());
    let r = http.get(&url).header(header::IF_NONE_MATCH, etag.clone()).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = http.get(&url).header(header::RANGE, "bytes=0-9").header(header::IF_RANGE, "\"other\"").send().await;
    assert_eq!(r.unwrap().status(), 200, "a range of another version: the whole file");
    let r = http.get(&url).send().await.unwrap();
    assert!(r.bytes().await.unwrap() == big[..]);

    let notes = http.get(format!("{base}notes.txt")).send().await.unwrap();
    assert!(notes.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(notes.text().await.unwrap(), "hello");
    let empty = http.get(format!("{base}empty.bin")).send().await.unwrap();
    assert_eq!((empty.status().as_u16(), empty.bytes().await.unwrap().len()), (200, 0));
    assert_eq!(http.get(format!("{base}nothing.txt")).send().await.unwrap().status(), 404);
    assert_eq!(http.post(&url).send().await.unwrap().status(), 405);
    server.stop().await;
    d.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_without_the_token_nor_for_a_foreign_host_nor_off_loopback_by_default() {
    let d = Drive::new(Config::default()).await;
    d.server.seed_bytes(EMAIL, "/t/a.txt", b"secret", 1).unwrap();
    let server = Server::start(engine(&d), own(&d, "/t").await, ServeOptions::default()).await.unwrap();
    let addr = server.addr();
    let token = server.base_url().trim_end_matches('/').rsplit('/').next().unwrap().to_string();
    let host = addr.to_string();
    assert_eq!(status_with_host(addr, &format!("/{token}/a.txt"), &host).await, 200);
    assert_eq!(status_with_host(addr, "/a.txt", &host).await, 404);
    assert_eq!(status_with_host(addr, "/", &host).await, 404);
    let mut wrong = token.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(status_with_host(addr, &format!("/{wrong}/a.txt"), &host).await, 404);
    // DNS rebinding: a name that resolves to 127.0.0.1, or another port, is refused.
    let port = addr.port();
    for foreign in [format!("evil.example:{port}"), format!("localhost:{port}"), "127.0.0.1:1".into()] {
        assert_eq!(status_with_host(addr, &format!("/{token}/a.txt"), &foreign).await, 421, "{foreign}");
    }
    server.stop().await;

    let everywhere = ServeOptions { addr: "0.0.0.0:0".parse().unwrap(), ..ServeOptions::default() };
    let e = Server::start(engine(&d), own(&d, "/t").await, everywhere).await.unwrap_err();
    assert!(e.to_string().contains("not a loopback address"), "{e}");
    let allowed = ServeOptions { allow_non_loopback: true, ..everywhere };
    let server = Server::start(engine(&d), own(&d, "/t").await, allowed).await.unwrap();
    let local = SocketAddr::from(([127, 0, 0, 1], server.addr().port()));
    let path = server.base_url().split_once(&server.addr().to_string()).unwrap().1.to_string();
    assert_eq!(status_with_host(local, &format!("{path}a.txt"), &local.to_string()).await, 200);
    server.stop().await;
    d.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_served_and_a_fault_mid_stream_is_survived() {
    let d = Drive::new(Config::default()).await;
    let data = content((40 << 20) + 17, 3);
    let h = d.server.seed_bytes(EMAIL, "/pub/song.mp3", &data, 1).unwrap();
    d.server.seed_bytes(EMAIL, "/pub/a.txt", b"one", 1).unwrap();
    d.server.seed_bytes(EMAIL, "/pub/b/a.txt", b"two", 1).unwrap();
    let client = d.session.client().clone();
    let anonymous = Engine::new(EngineConfig::new(d.tmp.path().join("j2")), client.clone(), None, None).unwrap();
    let http = reqwest::Client::new();

    // A file link: the URL printed is the file's.
    let link = mega_api::resolve_link(&d.server.file_link(EMAIL, h).unwrap(), None).await.unwrap();
    let target = Target::link(&client, &link).await.unwrap();
    let server = Server::start(anonymous.clone(), target, ServeOptions::default()).await.unwrap();
    assert!(server.url().ends_with("/song%2Emp3"), "{}", server.url());
    let r = http.get(server.url()).header(header::RANGE, "bytes=100-").send().await.unwrap();
    assert_eq!(r.headers()[header::CONTENT_TYPE], "audio/mpeg");
    let mut r = r;
    let mut got = Vec::new();
    // Faults switched on after the first bytes arrived.
    got.extend_from_slice(&r.chunk().await.unwrap().unwrap());
    d.server.set_faults(Faults { reset: 0.2, truncate: 0.2, http500: 0.2, expired: 0.2, ..Faults::default() });
    while let Some(b) = r.chunk().await.unwrap() {
        got.extend_from_slice(&b);
    }
    d.server.set_faults(Faults::default());
    assert!(got == data[100..], "every byte after the faults");
    let index = http.get(server.base_url()).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("song%2Emp3"));
    server.stop().await;

    // A folder link, by anyone: its files by path.
    let link = mega_api::resolve_link(&d.server.folder_link(EMAIL, "/pub").unwrap(), None).await.unwrap();
    let target = Target::link(&client, &link).await.unwrap();
    let server = Server::start(anonymous, target, ServeOptions::default()).await.unwrap();
    let base = server.base_url();
    assert_eq!(http.get(format!("{base}a.txt")).send().await.unwrap().text().await.unwrap(), "one");
    assert_eq!(http.get(format!("{base}b/a.txt")).send().await.unwrap().text().await.unwrap(), "two");
    let r = http.get(format!("{base}song.mp3")).header(header::RANGE, "bytes=4194304-").send().await.unwrap();
    assert!(r.bytes().await.unwrap() == data[4_194_304..]);
    server.stop().await;
    d.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_carried_twice_are_reached_by_handle() {
    let d = Drive::new(Config::default()).await;
    d.server.seed_bytes(EMAIL, "/d/x.txt", b"one", 1).unwrap();
    let session = &d.session;
    let parent = d.node("/d").await;
    {
        // A second x.txt beside the first, as MEGA allows.
        let mut t = d.tree.lock().await;
        session.upload_bytes(&mut t, parent, "x.txt", b"two", 1).await.unwrap();
    }
    let server = Server::start(engine(&d), own(&d, "/d").await, ServeOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let base = server.base_url();
    assert_eq!(http.get(format!("{base}x.txt")).send().await.unwrap().status(), 409);
    let index = http.get(base).send().await.unwrap().text().await.unwrap();
    let mut bodies = Vec::new();
    for href in index.split("href=\"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(href.starts_with("%40"), "{href}: each one by its handle");
        bodies.push(http.get(format!("{base}{href}")).send().await.unwrap().text().await.unwrap());
    }
    bodies.sort();
    assert_eq!(bodies, ["one", "two"]);
    server.stop().await;
    d.server.stop().await;
}

/// The app's server (`Streams`): bound before any session, serving the files it gave URLs for
/// while a session is open (ranges, `HEAD`, the `Host` check as `Server`'s), each session with
/// a new token; closing refuses every URL and ends the bodies under way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_stream_server_serves_only_while_a_session_is_open() {
    let d = Drive::new(Config::default()).await;
    let data = content((24 << 20) + 17, 4);
    d.server.seed_bytes(EMAIL, "/v/clip one.webm", &data, 1).unwrap();
    let everywhere = ServeOptions { addr: "0.0.0.0:0".parse().unwrap(), ..ServeOptions::default() };
    assert!(Streams::bind(everywhere).await.is_err());
    let streams = Streams::bind(ServeOptions::default()).await.unwrap();
    let file = FileTarget::own(&tree(&d).await, d.node("/v/clip one.webm").await).unwrap();
    assert!(streams.url(file.clone()).is_err(), "no session yet");
    streams.open(engine(&d));
    let u = streams.url(file.clone()).unwrap();
    assert!(u.url.starts_with(&format!("{}/", streams.origin())) && u.url.ends_with("/clip%20one.webm"), "{}", u.url);
    assert_eq!(streams.url(file.clone()).unwrap(), u, "the same file keeps its URL");

    let client = reqwest::Client::new();
    let r = client.get(&u.url).header(header::RANGE, "bytes=100-199").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "video/webm");
    assert!(r.bytes().await.unwrap() == data[100..200]);
    let r = client.head(&u.url).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()[header::CONTENT_LENGTH].to_str().unwrap()), (200, "25165841"));
    assert!(matches!(streams.integrity(&u.id), Some(Integrity::Unverified { .. })));
    assert_eq!(streams.read(&u.id, 10..20).await.unwrap().unwrap(), data[10..20]);
    let path = u.url.strip_prefix(&streams.origin()).unwrap();
    let port = streams.addr().port();
    assert_eq!(status_with_host(streams.addr(), path, &format!("localhost:{port}")).await, 421);
    assert_eq!(
        status_with_host(streams.addr(), &path.replace("clip%20one", "other"), &streams.addr().to_string()).await,
        404
    );

    // A body under way ends when the session does; its URL is refused from then on.
    let mut r = client.get(&u.url).send().await.unwrap();
    let mut got = r.chunk().await.unwrap().unwrap().len();
    streams.close();
    while let Ok(Some(c)) = r.chunk().await {
        got += c.len();
    }
    assert!(got < data.len(), "the whole file came after the session closed");
    assert_eq!(client.get(&u.url).send().await.unwrap().status(), 404);
    assert!(streams.url(file.clone()).is_err() && streams.integrity(&u.id).is_none());

    // The next session: a new token; the old URL stays refused.
    streams.open(engine(&d));
    let again = streams.url(file).unwrap();
    assert_ne!(again.url, u.url);
    assert_eq!(client.get(&u.url).send().await.unwrap().status(), 404);
    let r = client.get(&again.url).header(header::RANGE, "bytes=-17").send().await.unwrap();
    assert!(r.status() == 206 && r.bytes().await.unwrap() == data[data.len() - 17..]);
    streams.stop().await;
    d.server.stop().await;
}
