//! `links check`: a links file re-checked (alive, removed, taken down, `#P!` without its
//! password, keyless, a risky name) with exit codes a script can use; `links get` warning of a
//! risky name before it downloads; `links check --ledger` re-checking what was downloaded and
//! keeping a history of changes.

use serde_json::Value;
use test_support::server_with_account;

use crate::support::{Cli, EMAIL, PASSWORD};

fn statuses(v: &Value) -> Vec<(String, String)> {
    let rows = v.as_array().unwrap().iter();
    rows.map(|r| (r["status"].as_str().unwrap().into(), r["name"].as_str().unwrap_or("").into())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_rechecked_with_exit_codes_and_warnings() {
    let server = server_with_account().await;
    let t = 1_700_000_000;
    let ha = server.seed_bytes(EMAIL, "/a.bin", b"alive", t).unwrap();
    let hx = server.seed_bytes(EMAIL, "/film.mp4.exe", b"MZ", t).unwrap();
    let hg = server.seed_bytes(EMAIL, "/gone.bin", b"gone", t).unwrap();
    let hd = server.seed_bytes(EMAIL, "/down.bin", b"down", t).unwrap();
    let hk = server.seed_bytes(EMAIL, "/keyless.bin", b"keyless", t).unwrap();
    server.seed_bytes(EMAIL, "/secret.txt", b"secret", t).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let link = |h| server.file_link(EMAIL, h).unwrap();
    let (alive, risky, gone, down) = (link(ha), link(hx), link(hg), link(hd));
    let keyless = link(hk).split('#').next().unwrap().to_string();
    let protected = cli.run(&["link", "/secret.txt", "--password", "pw"]).await.ok().stdout.trim().to_string();
    cli.run(&["rm", "--permanent", "/gone.bin"]).await.ok();
    server.take_down(EMAIL, "/down.bin").unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("links.txt");
    std::fs::write(&list, format!("{alive}\n{risky}\n{gone}\n{down}\n{protected}\n{keyless}\n")).unwrap();
    let list_s = list.to_string_lossy().into_owned();

    let run = cli.run(&["--json", "links", "check", &list_s]).await;
    assert_eq!(run.code, 6, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        statuses(&rows),
        [
            ("alive".into(), "a.bin".into()),
            ("alive".into(), "film.mp4.exe".into()),
            ("removed".into(), String::new()),
            ("taken_down".into(), String::new()),
            ("needs_password".into(), String::new()),
            ("needs_key".into(), String::new()),
        ]
    );
    assert_eq!(rows[3]["reason"], "taken down");
    assert!(rows[1]["warning"].as_str().unwrap().contains("double extension"), "{rows}");
    assert!(rows[0].get("warning").is_none());
    assert!(run.stderr.contains("4 of 6 links are not alive"), "{}", run.stderr);

    // Text rows; the password opens the #P! link; only alive links: exit 0.
    let text = cli.run(&["links", "check", &list_s, "--password", "pw"]).await;
    assert_eq!(text.code, 6);
    assert!(text.stdout.lines().any(|l| l.starts_with("taken down") && l.contains(&down)), "{}", text.stdout);
    assert!(text.stdout.contains("warning: double extension"), "{}", text.stdout);
    assert!(text.stdout.lines().filter(|l| l.starts_with("alive")).count() == 3, "{}", text.stdout);
    cli.run_with_stdin(&["links", "check", "-"], &format!("see {alive} and {risky}")).await.ok();
    cli.run(&["links", "check"]).await.fails(2, "required");
    cli.run(&["links", "check", &list_s, "--ledger"]).await.fails(2, "cannot be used with");
    let help = cli.run(&["links", "check", "--help"]).await;
    assert!(help.stdout.contains("6  some are removed, taken down"), "{}", help.stdout);

    // `links get --check` rows carry the warning; `links get` warns before it downloads.
    let out = tmp.path().join("out");
    let checked = cli.run_with_stdin(&["--json", "links", "get", "-", "--check"], &format!("{alive} {risky}")).await;
    let rows = checked.json();
    assert!(rows[1]["warning"].as_str().unwrap().contains("double extension"), "{rows}");
    let fetched =
        cli.run_with_stdin(&["links", "get", "-", "--to", &out.to_string_lossy()], &format!("{alive} {risky}")).await;
    fetched.ok();
    assert!(fetched.stderr.contains("warning: film.mp4.exe: double extension"), "{}", fetched.stderr);
    assert_eq!(std::fs::read(out.join("film.mp4.exe")).unwrap(), b"MZ", "downloaded all the same");

    // The ledger (the two links downloaded, in the order of their ids): re-checked, then one
    // taken down and re-checked: exit 6, the change in its history, kept in the ledger.
    let sorted = |v: &Value| {
        let mut r = statuses(v);
        r.sort();
        r
    };
    let rows = cli.run(&["--json", "links", "check", "--ledger"]).await.json();
    assert_eq!(sorted(&rows), [("alive".into(), "a.bin".into()), ("alive".into(), "film.mp4.exe".into())]);
    assert!(rows.as_array().unwrap().iter().all(|r| r["checked_at"].as_u64().is_some()), "{rows}");
    server.take_down(EMAIL, "/a.bin").unwrap();
    let again = cli.run(&["--json", "links", "check", "--ledger"]).await;
    assert_eq!(again.code, 6, "{}", again.stderr);
    let rows: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(sorted(&rows), [("alive".into(), "film.mp4.exe".into()), ("taken_down".into(), "a.bin".into())]);
    let a = rows.as_array().unwrap().iter().find(|r| r["name"] == "a.bin").unwrap();
    let history: Vec<&str> = a["history"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["alive", "taken_down"]);
    assert!(!a["link"].as_str().unwrap().contains('#'), "the ledger keeps no key: {a}");
    let text = cli.run(&["links", "check", "--ledger"]).await;
    assert!(text.stdout.contains("history: alive "), "{}", text.stdout);
    let body = std::fs::read_to_string(cli.data_dir().join("links-ledger.json")).unwrap();
    assert!(body.contains("\"history\"") && body.contains("\"taken_down\""), "{body}");
    server.stop().await;
}
