//! A dead or hostile API server (what `mega-testserver` cannot be made to do): one that never
//! answers, one that trickles a byte at a time, one that sends a gigabyte. A small HTTP server
//! on 127.0.0.1:0 plays each; the client must fail within its deadline with a clear error, read
//! no more than its limit, and still take a slow reply that keeps moving.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mega_api::{Client, Error, ErrorKind};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does once it has read a request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Nothing: the connection stays open and silent.
    Silent,
    /// A 200 head announcing a long body, then one byte every `every`.
    Trickle { every: Duration },
    /// `len` bytes of body, its length announced or not (then the body ends with the connection).
    Huge { len: u64, announce: bool },
    /// A valid `f` reply padded to `len` bytes, sent `piece` bytes every `every`.
    SlowF { len: usize, piece: usize, every: Duration },
    /// An empty tree for `cs`, a wait URL for `sc`, and HTTP 500 at once from that URL.
    FailingLongPoll,
}

#[derive(Default)]
struct Stats {
    requests: AtomicU32,
    /// Requests to the long poll's URL.
    polls: AtomicU32,
    /// Body bytes the server managed to write.
    sent: AtomicU64,
    /// The client closed the connection before the whole body was written.
    dropped: AtomicBool,
}

struct Hostile {
    url: String,
    stats: Arc<Stats>,
}

impl Hostile {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let stats = Arc::new(Stats::default());
        let (s, base) = (stats.clone(), url.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, behaviour, s.clone(), base.clone()));
            }
        });
        Hostile { url, stats }
    }

    /// A client with short limits: a command gets 2 s in all, a connection 1 s of silence.
    fn client(&self) -> Client {
        Client::builder()
            .api_url(&self.url)
            .request_timeout(Duration::from_secs(2))
            .idle_timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    }
}

/// Reads one request (head and `Content-Length` body): its path, or `None` when the
/// connection ended.
async fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < len {
        match conn.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => have += n,
        }
    }
    head.split(' ').nth(1).map(str::to_string)
}

async fn serve(mut conn: TcpStream, behaviour: Behaviour, stats: Arc<Stats>, base: String) {
    let Some(path) = read_request(&mut conn).await else { return };
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let head = |len: Option<u64>| match len {
        Some(n) => format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {n}\r\n\r\n"),
        None => "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".to_string(),
    };
    let write = async |conn: &mut TcpStream, bytes: &[u8]| {
        if conn.write_all(bytes).await.is_err() || conn.flush().await.is_err() {
            stats.dropped.store(true, Ordering::SeqCst);
            return false;
        }
        stats.sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        true
    };
    match behaviour {
        Behaviour::Silent => {
            // Held open until the client gives up.
            let _ = conn.read(&mut [0u8; 1]).await;
        }
        Behaviour::Trickle { every } => {
            if !write(&mut conn, head(Some(1 << 20)).as_bytes()).await {
                return;
            }
            while write(&mut conn, b" ").await {
                tokio::time::sleep(every).await;
            }
        }
        Behaviour::Huge { len, announce } => {
            if !write(&mut conn, head(announce.then_some(len)).as_bytes()).await {
                return;
            }
            stats.sent.store(0, Ordering::SeqCst);
            let piece = vec![b' '; 64 << 10];
            let mut left = len;
            while left > 0 {
                let n = left.min(piece.len() as u64) as usize;
                if !write(&mut conn, &piece[..n]).await {
                    return;
                }
                left -= n as u64;
            }
        }
        Behaviour::FailingLongPoll => {
            let (status, body) = if path.starts_with("/cs") {
                ("200 OK", r#"[{"f":[],"sn":"s1"}]"#.to_string())
            } else if path.starts_with("/sc") {
                ("200 OK", format!(r#"{{"w":"{base}wait"}}"#))
            } else {
                stats.polls.fetch_add(1, Ordering::SeqCst);
                ("500 Internal Server Error", String::new())
            };
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            write(&mut conn, reply.as_bytes()).await;
        }
        Behaviour::SlowF { len, piece, every } => {
            let (open, close) = (&br#"[{"f":["#[..], &br#"],"sn":"slowly"}]"#[..]);
            let mut body = open.to_vec();
            body.resize(len - close.len(), b' ');
            body.extend_from_slice(close);
            if !write(&mut conn, head(Some(body.len() as u64)).as_bytes()).await {
                return;
            }
            for part in body.chunks(piece) {
                if !write(&mut conn, part).await {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
    }
}

/// An anonymous command (the server answers every request alike).
async fn command(client: &Client) -> Result<(), Error> {
    client.request(vec![json!({"a": "us0", "user": "x@example.com"})]).await.map(drop)
}

/// A folder link's tree: an `f` request.
async fn fetch_folder(client: &Client) -> Result<mega_api::Tree, Error> {
    let link = mega_proto::link::parse_plain("https://mega.nz/folder/AAAAAAAA#AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    client.open_folder_link(&link).unwrap().fetch_tree().await
}

/// A command and an `f` against `behaviour`: each fails as timed out within 8 s (the command
/// deadline is 2 s). Only the deadline is shortened for the command: its attempts used to get
/// it anew, eight times. `f` runs with a 1 s idle timeout too, as its reply is bounded by its
/// progress once it streams.
async fn both_time_out(behaviour: Behaviour) {
    let server = Hostile::start(behaviour).await;
    let deadline_only = Client::builder().api_url(&server.url).request_timeout(Duration::from_secs(2)).build().unwrap();
    for f in [false, true] {
        let started = Instant::now();
        let e =
            if f { fetch_folder(&server.client()).await.map(drop) } else { command(&deadline_only).await }.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{e}");
        assert!(matches!(e, Error::TimedOut { .. }), "{e:?}");
        assert!(e.to_string().contains("did not answer in time"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(8), "f: {f}, took {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn a_dead_api_fails_within_the_deadline() {
    both_time_out(Behaviour::Silent).await;
}

#[tokio::test]
async fn a_trickling_api_reply_times_out() {
    // A byte every 200 ms: the command's deadline passes; `f` gets under 16 KiB a second.
    both_time_out(Behaviour::Trickle { every: Duration::from_millis(200) }).await;
}

#[tokio::test]
async fn a_slow_f_reply_that_keeps_moving_is_taken() {
    // 400 KB at 40 KB per 200 ms: about 2 s, past the command deadline of 1 s, yet moving.
    let server =
        Hostile::start(Behaviour::SlowF { len: 400_000, piece: 40_000, every: Duration::from_millis(200) }).await;
    let client = Client::builder()
        .api_url(&server.url)
        .request_timeout(Duration::from_secs(1))
        .idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let tree = fetch_folder(&client).await.unwrap();
    assert_eq!(tree.sn(), "slowly");
    assert!(started.elapsed() > Duration::from_secs(1), "the reply was slower than the deadline");
    assert_eq!(server.stats.requests.load(Ordering::SeqCst), 1, "taken at the first attempt");
}

#[tokio::test]
async fn a_1gb_api_reply_is_refused_without_reading_it() {
    for announce in [true, false] {
        let server = Hostile::start(Behaviour::Huge { len: 1 << 30, announce }).await;
        let client = server.client();
        let e = command(&client).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.to_string().contains("MiB this client reads"), "{e}");
        // Not retried: the server saw one request, and the connection dropped early.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.stats.dropped.load(Ordering::SeqCst) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(server.stats.dropped.load(Ordering::SeqCst), "the client read on");
        let sent = server.stats.sent.load(Ordering::SeqCst);
        assert!(sent < 64 << 20, "{sent} bytes were sent (announced: {announce})");
        assert_eq!(server.stats.requests.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn a_failing_long_poll_backs_off_and_ends() {
    let server = Hostile::start(Behaviour::FailingLongPoll).await;
    let policy = mega_api::RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(400),
    };
    let client = Client::builder().api_url(&server.url).retry(policy).build().unwrap();
    let link = mega_proto::link::parse_plain("https://mega.nz/folder/AAAAAAAA#AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let folder = client.open_folder_link(&link).unwrap();
    let tree = folder.fetch_tree().await.unwrap();
    let mut events = folder.events(&tree);
    let started = Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the event channel gives up on a wait URL that always fails")
        .unwrap_err();
    assert!(e.to_string().contains("sc wait: HTTP status 500"), "{e}");
    // Four polls in a row, with waits of at least 50 + 100 + 200 ms between them.
    assert_eq!(server.stats.polls.load(Ordering::SeqCst), 4);
    assert!(started.elapsed() >= Duration::from_millis(350), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_upload_is_not_cut_by_the_idle_timeout() {
    // 700 KB in one request at 200 KB/s: 3.5 s of sending, past an idle timeout of 1 s (which
    // reqwest also runs while a body is sent).
    let (server, session) = crate::support::logged_in().await;
    let client = Client::builder()
        .api_url(server.url())
        .retry(crate::support::policy())
        .idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let session = client.resume(&session.save()).await.unwrap();
    let mut tree = session.fetch_tree().await.unwrap();
    let root = tree.root().unwrap();
    server.set_throttle(None, Some(200_000));
    let data = crate::support::content(700_000, 0);
    let h = session.upload_bytes(&mut tree, root, "slow.bin", &data, 0).await.unwrap();
    server.set_throttle(None, None);
    assert_eq!(session.download_bytes(&tree, h).await.unwrap(), data);
    server.stop().await;
}
