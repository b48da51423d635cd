//! `cat` and `serve http` (issue 18) through the real binary: byte ranges of own files and
//! links to stdout with what could be verified said on stderr; a server whose printed URL
//! answers ranges and an index, refuses a wrong token, stops on Ctrl-C, and will not bind a
//! non-loopback address unless told.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::support::{content, logged_in, Cli, EMAIL};

/// `cat ...`: exit code, the raw bytes on stdout, stderr.
async fn cat(cli: &Cli, args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut cmd = cli.command(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = cmd.output().await.unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_writes_files_and_ranges_of_the_drive_and_of_links() {
    let (server, cli) = logged_in().await;
    // Larger than one piece: a part read leaves chunks unread.
    let data = content((9 << 20) + 17, 1);
    let h = server.seed_bytes(EMAIL, "/v/clip.bin", &data, 1).unwrap();
    server.seed_bytes(EMAIL, "/v/empty.bin", b"", 1).unwrap();

    let (code, out, err) = cat(&cli, &["cat", "/v/clip.bin"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out == data, "the whole file");
    assert!(err.contains("verified"), "{err}");
    let (code, out, err) = cat(&cli, &["cat", "/v/clip.bin", "--offset", "2000000", "--count", "150000"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out == data[2_000_000..2_150_000]);
    assert!(err.contains("not verified"), "{err}");
    let last = (data.len() - 100).to_string();
    let (code, out, _) = cat(&cli, &["cat", "/v/clip.bin", "--offset", &last]).await;
    assert_eq!((code, &out[..]), (0, &data[data.len() - 100..]), "a seek into the last chunk");
    let (code, out, _) = cat(&cli, &["cat", "/v/empty.bin"]).await;
    assert_eq!((code, out.len()), (0, 0));

    // A file link, and a file inside a folder link, with no account.
    let anonymous = Cli::new(server.url());
    let link = server.file_link(EMAIL, h).unwrap();
    let (code, out, err) = cat(&anonymous, &["cat", &link, "--offset", "5", "--count", "10"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, &data[5..15]);
    let folder = server.folder_link(EMAIL, "/v").unwrap();
    let (code, out, err) = cat(&anonymous, &["--quiet", "cat", &folder]).await;
    assert_ne!(code, 0);
    assert!(out.is_empty() && err.contains("is a folder"), "{err}");

    cli.run(&["cat", "/v/missing.bin"]).await.fails(3, "missing.bin");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_http_prints_its_url_serves_ranges_and_stops_on_ctrl_c() {
    let (server, cli) = logged_in().await;
    let data = content((2 << 20) + 17, 2);
    server.seed_bytes(EMAIL, "/m/film.mp4", &data, 1).unwrap();
    server.seed_bytes(EMAIL, "/m/read me.txt", b"hello", 1).unwrap();

    let mut cmd = cli.command(&["serve", "http", "/m"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next_line().await.unwrap().expect("the URL is printed first");
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{url}");

    let http = reqwest::Client::new();
    let index = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("film%2Emp4") && index.contains("read%20me%2Etxt"), "{index}");
    let r = http.get(format!("{url}film.mp4")).header("Range", "bytes=1000000-1099999").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert!(r.bytes().await.unwrap() == data[1_000_000..1_100_000]);
    assert_eq!(http.get(format!("{url}read%20me.txt")).send().await.unwrap().text().await.unwrap(), "hello");
    // Without the token, or with another one: nothing.
    let root = url.rsplitn(3, '/').nth(2).unwrap().to_string();
    assert_eq!(http.get(format!("{root}/film.mp4")).send().await.unwrap().status(), 404);
    assert_eq!(
        http.get(format!("{root}/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/film.mp4")).send().await.unwrap().status(),
        404
    );

    // Ctrl-C stops it cleanly.
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait()).await.unwrap().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert!(err.contains("stopped"), "{err}");
    assert!(!err.contains(url.rsplit('/').nth(1).unwrap()), "the token is not in the log: {err}");

    cli.run(&["serve", "http", "/m", "--addr", "0.0.0.0:0"]).await.fails(2, "not a loopback address");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_http_serves_a_folder_link_with_json_output() {
    let (server, _) = logged_in().await;
    server.seed_bytes(EMAIL, "/pub/a.txt", b"one", 1).unwrap();
    let folder = server.folder_link(EMAIL, "/pub").unwrap();
    let anonymous = Cli::new(server.url());
    let mut cmd = anonymous.command(&["--json", "serve", "http", &folder]);
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The JSON document comes whole before serving starts.
    let mut text = String::new();
    let mut buf = [0u8; 512];
    let doc = loop {
        let n = stdout.read(&mut buf).await.unwrap();
        assert!(n > 0, "the JSON document is printed: {text}");
        text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            break v;
        }
    };
    let index = doc["index"].as_str().unwrap();
    assert_eq!(doc["url"], index);
    let got = reqwest::get(format!("{index}a.txt")).await.unwrap().text().await.unwrap();
    assert_eq!(got, "one");
    child.kill().await.unwrap();
    server.stop().await;
}
