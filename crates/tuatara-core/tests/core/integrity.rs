//! Integrity: a csv links file exported, then the files behind its links changed on the server
//! (one renamed, one given another fingerprint): the check says which links changed and how,
//! a re-check says `changed`; downloads of intact links verify their fingerprints, a changed
//! link allowed downloads as it is now, and a file whose content is not what its fingerprint
//! says fails and is recorded failed in the ledger. A folder-as-one-link row is not compared.

use mega_api::{Client, NodeHandle, Session, Tree};
use mega_proto::fingerprint::Fingerprint;
use mega_transfer::{Engine, EngineConfig};
use test_support::EMAIL;
use tuatara_core::links::{
    self, integrity::Field, CheckOptions, Checked, ExportOptions, Health, Ledger, LedgerStatus, LinkStatus, ListFormat,
};

/// Sets a file's fingerprint attribute (`c`) as a client may.
async fn set_fingerprint(session: &Session, tree: &mut Tree, h: NodeHandle, c: &str) {
    let mut attrs = tree.get(h).unwrap().attributes();
    attrs.set_fingerprint(c);
    session.set_attributes(tree, h, attrs).await.unwrap();
}

async fn check(client: &Client, csv: &str) -> Vec<Checked> {
    let entries = links::read_list(csv, None).unwrap();
    links::check_list(client, &entries, CheckOptions::default(), &mut |_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_link_is_found_before_download_and_a_fingerprint_verified_after() {
    let (server, session) = crate::logged_in().await;
    server.seed_bytes(EMAIL, "/Out/a.txt", b"alpha", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/Out/b.bin", &[2u8; 5000], 1_700_000_100).unwrap();
    server.seed_bytes(EMAIL, "/Out/c.txt", b"gamma", 1_700_000_200).unwrap();
    server.seed_bytes(EMAIL, "/Out/d.txt", b"delta", 1_700_000_300).unwrap();
    let mut tree = session.fetch_tree().await.unwrap();
    let node = |tree: &Tree, p: &str| tree.resolve(p).unwrap();
    // d.txt's fingerprint says other content from the start: the links file has it too.
    let not_delta = Fingerprint::of(b"not delta", 1_700_000_300).to_attr();
    let d = node(&tree, "/Out/d.txt");
    set_fingerprint(&session, &mut tree, d, &not_delta).await;
    let folder = node(&tree, "/Out");
    let list = links::export_list(&session, &mut tree, folder, &ExportOptions::default(), |_, _| {}).await.unwrap();
    let csv = list.render(ListFormat::Csv).unwrap();
    let client = test_support::client(server.url());
    let intact = check(&client, &csv).await;
    assert!(intact.iter().all(|c| c.status == LinkStatus::Alive && c.changes.is_empty()), "{intact:?}");
    assert!(intact.iter().all(|c| c.fingerprint.is_some() && c.expected.is_some()));

    // On the server: b.bin renamed, c.txt given another file's fingerprint.
    let (b, c) = (node(&tree, "/Out/b.bin"), node(&tree, "/Out/c.txt"));
    session.rename(&mut tree, b, "b-renamed.bin").await.unwrap();
    let c_was = list.entries[2].meta.fingerprint.clone().unwrap();
    let other = Fingerprint::of(b"other", 1_700_000_200).to_attr();
    set_fingerprint(&session, &mut tree, c, &other).await;

    let mut checked = check(&client, &csv).await;
    let statuses: Vec<_> = checked.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [LinkStatus::Alive, LinkStatus::Changed, LinkStatus::Changed, LinkStatus::Alive]);
    let b = &checked[1].changes;
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!((b[0].what, b[0].expected.as_str(), b[0].now.as_str()), (Field::Name, "b.bin", "b-renamed.bin"));
    let c = &checked[2].changes;
    assert_eq!((c.len(), c[0].what), (1, Field::Fingerprint), "{c:?}");
    assert_eq!((c[0].expected.as_str(), c[0].now.as_str()), (c_was.as_str(), other.as_str()));
    let msg = checked[1].message.clone().unwrap();
    assert!(msg.contains("name: expected b.bin, now b-renamed.bin"), "{msg}");

    // A re-check of the file says changed too, with the differences.
    let rows =
        links::recheck_list(&client, &links::read_list(&csv, None).unwrap(), CheckOptions::default(), &mut |_| {})
            .await;
    let health: Vec<_> = rows.iter().map(|r| r.status).collect();
    assert_eq!(health, [Health::Alive, Health::Changed, Health::Changed, Health::Alive]);
    assert!(rows[1].reason.as_deref().unwrap().contains("b-renamed.bin"));
    let json = serde_json::to_value(&rows[2]).unwrap();
    assert_eq!(json["changes"][0]["what"], "fingerprint", "{json}");
    assert!(!links::all_alive(&rows));

    // Downloaded without --allow-changed: the changed links are not; the intact one verifies;
    // d.txt is not what its fingerprint says: failed, and so in the ledger.
    let tmp = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(tmp.path().join("ledger.json")).unwrap();
    let engine = Engine::new(EngineConfig::new(tmp.path().join("journal")), client.clone(), None, None).unwrap();
    let dl = tmp.path().join("dl");
    let failed = links::download_checked(&engine, &mut ledger, &mut checked, &dl).await.unwrap();
    let statuses: Vec<_> = checked.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [LinkStatus::Done, LinkStatus::Changed, LinkStatus::Changed, LinkStatus::Failed]);
    assert_eq!(failed, 1);
    let why = checked[3].message.clone().unwrap();
    assert!(why.contains("d.txt") && why.contains("fingerprint") && why.contains("content differs"), "{why}");
    assert_eq!(std::fs::read(dl.join("a.txt")).unwrap(), b"alpha");
    assert!(!dl.join("b-renamed.bin").exists() && !dl.join("c.txt").exists());
    let d_link = checked[3].link.clone().unwrap();
    let d_entry = ledger.entry(&d_link).unwrap();
    assert_eq!(d_entry.status, LedgerStatus::Failed);
    assert!(d_entry.error.as_deref().unwrap().contains("fingerprint"));

    // With --allow-changed: the renamed file downloads as it is now and verifies; c.txt's
    // fingerprint now says other content: it fails after download.
    let mut again = check(&client, &csv).await;
    assert_eq!(links::allow_changed(&mut again), 2);
    let mut todo: Vec<Checked> = again.into_iter().skip(1).take(2).collect();
    assert!(todo.iter().all(|c| c.status == LinkStatus::Alive && !c.changes.is_empty()));
    let failed = links::download_checked(&engine, &mut ledger, &mut todo, &dl).await.unwrap();
    assert_eq!((todo[0].status, todo[1].status, failed), (LinkStatus::Done, LinkStatus::Failed, 1));
    assert_eq!(std::fs::read(dl.join("b-renamed.bin")).unwrap(), [2u8; 5000]);
    assert!(todo[1].message.as_deref().unwrap().contains("content differs"));
    assert_eq!(ledger.entry(todo[0].link.as_ref().unwrap()).unwrap().status, LedgerStatus::Done);
    assert_eq!(ledger.entry(todo[1].link.as_ref().unwrap()).unwrap().status, LedgerStatus::Failed);

    // The folder as one link: no per-file metadata, not compared.
    let opts = ExportOptions { as_folder: true, ..Default::default() };
    let one = links::export_list(&session, &mut tree, folder, &opts, |_, _| {}).await.unwrap();
    let checked = check(&client, &one.render(ListFormat::Json).unwrap()).await;
    assert_eq!((checked[0].status, checked[0].changes.len()), (LinkStatus::Alive, 0));
    server.stop().await;
}
