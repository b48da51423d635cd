//! The `mega-testserver` binary as scripts use it: the first stdout line is the base URL, the
//! seeded accounts log in, SIGTERM stops it cleanly, bad flags are usage errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn prints_url_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mega-testserver"))
        .args(["--user", "Cli@Example.com:secret:v1", "--user", "two@example.com:pw"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "first line {url:?}");
    let http = reqwest::Client::new();
    let us0 = |user: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let body = format!(r#"[{{"a":"us0","user":"{user}"}}]"#);
            http.post(format!("{url}cs?id=1")).body(body).send().await.unwrap().text().await.unwrap()
        }
    };
    assert_eq!(us0("cli@example.com").await, r#"[{"v":1}]"#);
    assert!(us0("two@example.com").await.contains(r#""v":2"#), "v2 is the default");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "SIGTERM ends it cleanly");
}

#[test]
fn bad_user_flag_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mega-testserver")).args(["--user", "nocolon"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EMAIL:PASSWORD"));
}
