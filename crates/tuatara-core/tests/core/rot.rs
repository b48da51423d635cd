//! Link rot, visible: a links file re-checked (alive, removed, taken down, waiting for a key or
//! a password) with names that hide what a file is flagged; the ledger's links re-checked by
//! their public handles, with the time and a history of changes recorded; a ledger of an older
//! version loading as it is; a big ledger recording through its log.

use mega_api::Link;
use tuatara_core::links::{self, CheckOptions, Health, Ledger, LedgerEntry, LedgerStatus, LinkStatus};

use crate::login;
use test_support::{server_with_account, EMAIL};

fn entry(name: &str, size: u64) -> LedgerEntry {
    LedgerEntry { status: LedgerStatus::Done, name: name.into(), size, error: None }
}

async fn keyless(url: &str) -> Link {
    let mut l = mega_api::resolve_link(url, None).await.unwrap();
    l.key = None;
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_links_file_and_the_ledger_are_rechecked() {
    let server = server_with_account().await;
    let t = 1_700_000_000;
    let ha = server.seed_bytes(EMAIL, "/a.mp4", b"alive", t).unwrap();
    let hx = server.seed_bytes(EMAIL, "/film.mp4.exe", b"MZ....", t).unwrap();
    let hg = server.seed_bytes(EMAIL, "/gone.bin", b"gone", t).unwrap();
    let hd = server.seed_bytes(EMAIL, "/down.bin", b"down", t).unwrap();
    let hp = server.seed_bytes(EMAIL, "/secret.txt", b"secret", t).unwrap();
    let hk = server.seed_bytes(EMAIL, "/keyless.txt", b"keyless", t).unwrap();
    for name in ["a.mp4", "b.mkv", "c.jpg", "codec.exe"] {
        server.seed_bytes(EMAIL, &format!("/Media/{name}"), b"media", t).unwrap();
    }
    server.seed_bytes(EMAIL, "/Down/x.txt", b"x", t).unwrap();
    let link = |h| server.file_link(EMAIL, h).unwrap();
    let (alive, risky, gone, down) = (link(ha), link(hx), link(hg), link(hd));
    let media = server.folder_link(EMAIL, "/Media").unwrap();
    let down_folder = server.folder_link(EMAIL, "/Down").unwrap();
    let secret = mega_api::resolve_link(&link(hp), None).await.unwrap();
    let protected = mega_api::protect_link(&secret, "pw").await.unwrap();
    let no_key = keyless(&link(hk)).await.url_without_key();
    let session = login(&server).await;
    let mut tree = session.fetch_tree().await.unwrap();
    let gone_h = tree.resolve("/gone.bin").unwrap();
    session.remove(&mut tree, gone_h).await.unwrap();
    server.take_down(EMAIL, "/down.bin").unwrap();
    server.take_down(EMAIL, "/Down").unwrap();

    let client = mega_api::ClientBuilder::new().api_url(server.url()).build().unwrap();
    let text = format!("{alive}\n{risky}\n{gone}\n{down}\n{media}\n{down_folder}\n{protected}\n{no_key}\n");
    let rows = links::recheck(&client, &links::extract(&text), CheckOptions::default(), &mut |_| {}).await;
    let got: Vec<_> = rows.iter().map(|r| (r.status, r.name.as_deref(), r.reason.as_deref())).collect();
    assert_eq!(
        got,
        [
            (Health::Alive, Some("a.mp4"), None),
            (Health::Alive, Some("film.mp4.exe"), None),
            (Health::Removed, None, Some("the link was removed or does not exist")),
            (Health::TakenDown, None, Some("taken down")),
            (Health::Alive, Some("Media"), None),
            (Health::TakenDown, None, Some("taken down")),
            (Health::NeedsPassword, None, Some("the link is protected by a password")),
            (Health::NeedsKey, None, Some("the link has no key")),
        ]
    );
    assert!(!links::all_alive(&rows));
    assert_eq!(rows[0].warning, None);
    assert!(rows[1].warning.as_deref().unwrap().contains("double extension"), "{:?}", rows[1].warning);
    let w = rows[4].warning.as_deref().unwrap();
    assert!(w.contains("codec.exe (a program or script among media)"), "{w}");
    // `links get --check` carries the same warning.
    let checked = links::check_text(&client, &risky, CheckOptions::default(), &mut |_| {}).await;
    assert_eq!((checked[0].status, checked[0].warning.is_some()), (LinkStatus::Alive, true));
    let opened = CheckOptions { password: Some("pw"), ..Default::default() };
    let with_pw = links::recheck(&client, &links::extract(&protected), opened, &mut |_| {}).await;
    assert!(links::all_alive(&with_pw), "{with_pw:?}");

    // The ledger: its links re-checked without their keys; one recorded with another size
    // than it has now has changed.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("links-ledger.json");
    let mut ledger = Ledger::open(&path).unwrap();
    ledger.record(&keyless(&alive).await, entry("a.mp4", 5)).unwrap();
    ledger.record(&keyless(&risky).await, entry("film.mp4.exe", 999)).unwrap();
    ledger.record(&keyless(&gone).await, entry("gone.bin", 4)).unwrap();
    ledger.record(&keyless(&down).await, entry("down.bin", 4)).unwrap();
    ledger.record(&keyless(&media).await, entry("Media", 20)).unwrap();
    ledger.record(&keyless(&down_folder).await, entry("Down", 1)).unwrap();
    let id = |l: &Link| mega_transfer::watch::link_id(l);
    let alive_id = id(&keyless(&alive).await);
    let before = server.command_stats("g").requests;
    let rows = links::recheck_ledger(&client, &mut ledger, &mut |_| {}).await.unwrap();
    assert_eq!(server.command_stats("g").requests - before, 1, "the file links asked in one request");
    let status = |rows: &[links::Recheck], l: &str| rows.iter().find(|r| r.link == l).map(|r| r.status);
    assert_eq!(status(&rows, &alive_id), Some(Health::Alive));
    assert_eq!(status(&rows, &id(&keyless(&risky).await)), Some(Health::Changed));
    assert_eq!(status(&rows, &id(&keyless(&gone).await)), Some(Health::Removed));
    assert_eq!(status(&rows, &id(&keyless(&down).await)), Some(Health::TakenDown));
    assert_eq!(status(&rows, &id(&keyless(&media).await)), Some(Health::Alive));
    assert_eq!(status(&rows, &id(&keyless(&down_folder).await)), Some(Health::TakenDown));
    let risky_id = id(&keyless(&risky).await);
    let r = rows.iter().find(|r| r.link == risky_id).unwrap();
    assert!(r.warning.is_some() && r.reason.as_deref().unwrap().contains("6 bytes now, it was 999"), "{r:?}");
    let body = std::fs::read_to_string(&path).unwrap();
    assert!(body.contains("\"taken_down\"") && body.contains("\"checked\""), "{body}");

    // Taken down since: the history says so, in the file as read again.
    server.take_down(EMAIL, "/a.mp4").unwrap();
    let mut again = Ledger::open(&path).unwrap();
    let rows = links::recheck_ledger(&client, &mut again, &mut |_| {}).await.unwrap();
    assert_eq!(status(&rows, &alive_id), Some(Health::TakenDown));
    let health = Ledger::open(&path).unwrap().health(&alive_id).cloned().unwrap();
    let history: Vec<Health> = health.history.iter().map(|c| c.status).collect();
    assert_eq!((health.status, history), (Health::TakenDown, vec![Health::Alive, Health::TakenDown]));
    assert!(Ledger::open(&path).unwrap().done_by_id(&alive_id).is_some(), "the download's entry is kept");
    server.stop().await;
}

#[test]
fn an_older_ledger_loads_and_a_big_one_records_through_its_log() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("links-ledger.json");
    // A ledger as written before re-checks: no `checked` in its lines.
    std::fs::write(&path, r#"{"file:AAAAAAAA": {"status": "done", "name": "x.txt", "size": 5}}"#).unwrap();
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.done_by_id("file:AAAAAAAA").map(|e| e.name.as_str()), Some("x.txt"));
    assert!(ledger.health("file:AAAAAAAA").is_none());

    // A big one: a record is a line appended to the log, the file left as it is; read again
    // (or by another process) the ledger has it; the log is folded in after FOLD_AT lines.
    let n = links::ledger::LOG_FROM;
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let h = mega_proto::NodeHandle([0, 0, 0, 0, (i >> 8) as u8, i as u8]).to_b64();
            format!(r#""file:{h}": {{"status": "done", "name": "f{i}", "size": {i}}}"#)
        })
        .collect();
    std::fs::write(&path, format!("{{{}}}", lines.join(","))).unwrap();
    let file_before = std::fs::read(&path).unwrap();
    let mut ledger = Ledger::open(&path).unwrap();
    let mut other = Ledger::open(&path).unwrap();
    let link = |b: u8| Link {
        kind: mega_api::LinkKind::File,
        handle: mega_proto::NodeHandle([9, 9, 9, 9, 9, b]),
        key: None,
        sub: None,
    };
    ledger.record(&link(1), entry("one", 1)).unwrap();
    other.record(&link(2), entry("two", 2)).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), file_before, "the file is not rewritten");
    assert!(other.done(&link(1)).is_some(), "another process's record is read before one's own");
    let read = Ledger::open(&path).unwrap();
    assert!(read.done(&link(1)).is_some() && read.done(&link(2)).is_some());
    assert_eq!(read.entries().len(), n + 2);
    // A line cut short by a crash is left out.
    let log = path.with_extension("log");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, b"{\"id\":\"file:ZZZ").unwrap();
    assert_eq!(Ledger::open(&path).unwrap().entries().len(), n + 2);
    ledger.record(&link(3), entry("after the crash", 3)).unwrap();
    assert!(Ledger::open(&path).unwrap().done(&link(3)).is_some(), "a record after a cut line is read");
    for i in 0..links::ledger::FOLD_AT {
        let l = Link { handle: mega_proto::NodeHandle([8, 8, 8, 8, (i >> 8) as u8, i as u8]), ..link(0) };
        ledger.record(&l, entry("more", 1)).unwrap();
    }
    assert!(!log.exists() || std::fs::metadata(&log).unwrap().len() < 100_000, "folded");
    assert_ne!(std::fs::read(&path).unwrap(), file_before, "folded into the file");
    assert!(Ledger::open(&path).unwrap().done(&link(2)).is_some());
}
