//! "Shared by me": what the account exported, read from its tree with links that open, and
//! their status asked of the service (alive, removed elsewhere, taken down); the ledger's
//! "Received" side: links forgotten, and when a periodic re-check is due.

use mega_api::LinkKind;
use tuatara_core::links::{self, Health, Ledger, LedgerEntry, LedgerStatus, LinkStatus};

use crate::login;
use test_support::{server_with_account, EMAIL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_links_are_listed_open_and_report_their_status() {
    let server = server_with_account().await;
    let t = 1_700_000_000;
    server.seed_bytes(EMAIL, "/Photos/a.jpg", b"a picture", t).unwrap();
    server.seed_bytes(EMAIL, "/Photos/b.jpg", b"another one", t).unwrap();
    server.seed_bytes(EMAIL, "/notes.txt", b"notes", t).unwrap();
    server.seed_bytes(EMAIL, "/down.bin", b"down", t).unwrap();
    server.seed_bytes(EMAIL, "/private.txt", b"never exported", t).unwrap();
    let session = login(&server).await;
    let mut tree = session.fetch_tree().await.unwrap();
    for path in ["/Photos", "/notes.txt", "/down.bin"] {
        let h = tree.resolve(path).unwrap();
        session.export(&mut tree, h).await.unwrap();
    }

    // Read back from a fresh tree, as the app's page does after a restart.
    let tree = session.fetch_tree().await.unwrap();
    let shared = links::shared_links(&tree);
    let got: Vec<_> = shared.iter().map(|s| (s.path.as_str(), s.kind, s.size)).collect();
    assert_eq!(
        got,
        [("/Photos", LinkKind::Folder, 20), ("/down.bin", LinkKind::File, 4), ("/notes.txt", LinkKind::File, 5)]
    );
    let client = mega_api::ClientBuilder::new().api_url(server.url()).build().unwrap();
    for s in &shared {
        assert!(s.link.key.is_some(), "{s:?}: the tree holds its key");
        let opened = links::check_link(&client, &s.link).await;
        assert_eq!((opened.status, opened.name.as_deref()), (LinkStatus::Alive, Some(s.name.as_str())), "{s:?}");
    }
    assert!(!format!("{shared:?}").contains(&shared[1].link.key_b64().unwrap()), "no key in Debug");

    // One taken down by the service, one removed from another session: seen as such.
    server.take_down(EMAIL, "/down.bin").unwrap();
    let other = login(&server).await;
    let mut other_tree = other.fetch_tree().await.unwrap();
    let notes = other_tree.resolve("/notes.txt").unwrap();
    other.unexport(&mut other_tree, notes).await.unwrap();
    let mut seen = 0;
    let status = links::check_shared(&client, &shared, &mut |_| seen += 1).await;
    let status: Vec<_> = status.iter().map(|(s, _)| *s).collect();
    assert_eq!(status, [Health::Alive, Health::TakenDown, Health::Removed]);
    assert!(seen >= shared.len(), "progress is told");

    // The tree as the event channel leaves it: the removed link is gone from the list.
    let tree = session.fetch_tree().await.unwrap();
    let paths: Vec<_> = links::shared_links(&tree).into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/Photos", "/down.bin"]);

    // A received link re-checked is not due again until its period has passed.
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path().join("links-ledger.json")).unwrap();
    let done = LedgerEntry { status: LedgerStatus::Done, name: "Photos".into(), size: 20, error: None };
    ledger.record(&shared[0].link, done).unwrap();
    links::recheck_ledger(&client, &mut ledger, &mut |_| {}).await.unwrap();
    let at = ledger.oldest_check().unwrap();
    assert!(at > 0 && !links::recheck_due(&ledger, 3600, at + 3599));
    assert!(links::recheck_due(&ledger, 3600, at + 3600));
}

#[test]
fn the_ledger_forgets_links_and_says_when_a_recheck_is_due() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("links-ledger.json");
    let mut ledger = Ledger::open(&path).unwrap();
    assert!(!links::recheck_due(&ledger, 3600, 1_000_000), "an empty ledger never is");
    let entry = |name: &str| LedgerEntry { status: LedgerStatus::Done, name: name.into(), size: 1, error: None };
    for (i, name) in ["a", "b"].iter().enumerate() {
        let link = mega_api::Link {
            kind: LinkKind::File,
            handle: mega_api::NodeHandle::from_b64(&format!("AAAAAAA{i}")).unwrap(),
            key: None,
            sub: None,
        };
        ledger.record(&link, entry(name)).unwrap();
    }
    assert_eq!(ledger.oldest_check(), Some(0), "never re-checked");
    assert!(links::recheck_due(&ledger, 3600, 1_000_000));

    let ids: Vec<String> = ledger.entries().keys().cloned().collect();
    assert_eq!(ledger.forget(&[ids[0].clone(), "file:ZZZZZZZZ".into()]).unwrap(), 1);
    let again = Ledger::open(&path).unwrap();
    assert_eq!(again.entries().keys().cloned().collect::<Vec<_>>(), [ids[1].clone()], "forgotten on disk too");
}
