//! Links files: a folder exported with its files' metadata (plain, csv, json) and read back;
//! keys kept apart and joined again by handle (a missing or wrong key reported per link);
//! `#P!` links opened with their password; the folder as one folder link.

use mega_api::{Client, NodeHandle, Session, Tree};
use mega_proto::link::ParsedLink;
use test_support::EMAIL;
use tuatara_core::links::{
    self, CheckOptions, ExportOptions, FileMeta, KeyFile, Keys, LinkStatus, ListEntry, ListFormat,
};
use zeroize::Zeroizing;

async fn seeded() -> (mega_testserver::TestServer, Session, Tree, NodeHandle) {
    let (server, session) = crate::logged_in().await;
    server.seed_bytes(EMAIL, "/Out/b.bin", &[2u8; 5000], 1_700_000_100).unwrap();
    server.seed_bytes(EMAIL, "/Out/a.txt", b"alpha", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/Out/sub/c.txt", b"gamma", 1_700_000_200).unwrap();
    let tree = session.fetch_tree().await.unwrap();
    let folder = tree.resolve("/Out").unwrap();
    (server, session, tree, folder)
}

fn paths(entries: &[ListEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.meta.path.as_str()).collect()
}

async fn check(client: &Client, text: &str, keys: Option<&KeyFile>, password: Option<&str>) -> Vec<links::Checked> {
    let entries = links::read_list(text, keys).unwrap();
    let opts = CheckOptions { password, ..Default::default() };
    links::check_list(client, &entries, opts, &mut |_| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_carries_metadata_and_reads_back_in_every_format() {
    let (server, session, mut tree, folder) = seeded().await;
    let mut seen = Vec::new();
    let list = links::export_list(&session, &mut tree, folder, &ExportOptions::default(), |e, total| {
        seen.push((e.meta.path.clone(), total))
    })
    .await
    .unwrap();
    assert_eq!(paths(&list.entries), ["/Out/a.txt", "/Out/b.bin", "/Out/sub/c.txt"], "path order");
    assert_eq!(seen.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [3, 3, 3]);
    assert!(list.keys.is_none());
    let a = &list.entries[0].meta;
    let node = tree.get(tree.resolve("/Out/a.txt").unwrap()).unwrap();
    assert_eq!((a.size, a.mtime), (5, Some(1_700_000_000)));
    assert_eq!(a.fingerprint.as_deref(), node.attribute("c").unwrap().as_str(), "the c attribute as MEGA has it");
    assert_eq!(list.entries[1].meta.size, 5000);

    let client = test_support::client(server.url());
    for format in [ListFormat::Plain, ListFormat::Csv, ListFormat::Json] {
        let body = list.render(format).unwrap();
        let entries = links::read_list(&body, None).unwrap();
        assert_eq!(entries.len(), 3, "{format:?}");
        let metas: Vec<Option<FileMeta>> = entries.iter().map(|e| e.meta.clone()).collect();
        if format == ListFormat::Plain {
            assert_eq!(
                body.lines().collect::<Vec<_>>(),
                list.entries.iter().map(|e| e.link.as_str()).collect::<Vec<_>>()
            );
            assert!(metas.iter().all(Option::is_none));
        } else {
            assert_eq!(metas, list.entries.iter().map(|e| Some(e.meta.clone())).collect::<Vec<_>>(), "{body}");
        }
        let checked = check(&client, &body, None, None).await;
        let got: Vec<_> = checked.iter().map(|c| (c.status, c.name.clone().unwrap_or_default(), c.size)).collect();
        assert_eq!(
            got,
            [
                (LinkStatus::Alive, "a.txt".into(), Some(5)),
                (LinkStatus::Alive, "b.bin".into(), Some(5000)),
                (LinkStatus::Alive, "c.txt".into(), Some(5))
            ],
            "{format:?}"
        );
    }

    // Saved: owner-only.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("lists/out.csv");
    list.save(ListFormat::Csv, &out, None).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), list.render(ListFormat::Csv).unwrap());
    assert_eq!(mode(&out), 0o600);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_apart_join_again_and_a_wrong_or_missing_key_is_per_link() {
    let (server, session, mut tree, folder) = seeded().await;
    let opts = ExportOptions { keys: Keys::Apart, ..Default::default() };
    let list = links::export_list(&session, &mut tree, folder, &opts, |_, _| {}).await.unwrap();
    let keys = list.keys.clone().unwrap();
    assert_eq!(keys.len(), 3);
    let tmp = tempfile::tempdir().unwrap();
    let (out, key_path) = (tmp.path().join("out.json"), tmp.path().join("keys/out.keys"));
    list.save(ListFormat::Json, &out, Some(&key_path)).unwrap();
    assert_eq!(mode(&key_path), 0o600);
    let body = std::fs::read_to_string(&out).unwrap();
    for e in links::read_list(&body, None).unwrap() {
        let ParsedLink::Plain(l) = &e.link else { panic!("a plain link") };
        assert!(l.key.is_none(), "keyless");
        let key = keys.get(l.handle).unwrap();
        assert!(!body.contains(key), "no key in the list");
    }

    let client = test_support::client(server.url());
    let without = check(&client, &body, None, None).await;
    assert!(without.iter().all(|c| c.status == LinkStatus::NeedsKey));
    let loaded = KeyFile::load(&key_path).unwrap();
    let joined = check(&client, &body, Some(&loaded), None).await;
    assert!(joined.iter().all(|c| c.status == LinkStatus::Alive), "{joined:?}");
    assert!(joined.iter().all(|c| !c.url.contains('#')), "reported as listed, without the joined key");
    assert!(joined.iter().all(|c| c.link.as_ref().is_some_and(|l| l.key.is_some())), "opened with it");

    // One key missing, one of the wrong length, one that fits another file: each link says so.
    let handles: Vec<NodeHandle> = links::read_list(&body, None)
        .unwrap()
        .iter()
        .map(|e| match &e.link {
            ParsedLink::Plain(l) => l.handle,
            ParsedLink::Protected(_) => unreachable!(),
        })
        .collect();
    let (h1, h2) = (handles[1], handles[2]);
    let other = keys.get(handles[0]).unwrap();
    let text = format!("{h1} tooshort\n{h2} {other}\n");
    let damaged = KeyFile::parse(&text).unwrap();
    let checked = check(&client, &body, Some(&damaged), None).await;
    let got: Vec<_> = checked.iter().map(|c| (c.status, c.message.clone().unwrap_or_default())).collect();
    assert_eq!(got[0].0, LinkStatus::NeedsKey, "{got:?}");
    assert_eq!(got[1], (LinkStatus::Bad, "the key given does not fit the link".into()));
    assert_eq!(got[2].0, LinkStatus::Bad, "{got:?}");
    assert!(got[2].1.contains("does not fit"), "{got:?}");
    assert!(got.iter().all(|(_, m)| !m.contains(other)), "no key in a message");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_links_and_a_folder_as_one_link() {
    let (server, session, mut tree, folder) = seeded().await;
    let opts = ExportOptions { keys: Keys::Password(Zeroizing::new("pw".into())), ..Default::default() };
    let mut seen = 0;
    let list = links::export_list(&session, &mut tree, folder, &opts, |_, _| seen += 1).await.unwrap();
    assert_eq!(seen, 3);
    assert!(list.entries.iter().all(|e| e.link.contains("/#P!")), "{:?}", list.entries);
    let client = test_support::client(server.url());
    let body = list.render(ListFormat::Csv).unwrap();
    let locked = check(&client, &body, None, None).await;
    assert!(locked.iter().all(|c| c.status == LinkStatus::NeedsPassword));
    let opened = check(&client, &body, None, Some("pw")).await;
    let names: Vec<_> = opened.iter().map(|c| (c.status, c.name.clone().unwrap_or_default())).collect();
    assert_eq!(
        names,
        [(LinkStatus::Alive, "a.txt".into()), (LinkStatus::Alive, "b.bin".into()), (LinkStatus::Alive, "c.txt".into())]
    );

    // The folder as one link, its key apart.
    let opts = ExportOptions { keys: Keys::Apart, as_folder: true };
    let list = links::export_list(&session, &mut tree, folder, &opts, |_, _| {}).await.unwrap();
    assert_eq!(paths(&list.entries), ["/Out"]);
    assert_eq!(list.entries[0].meta.size, 5010);
    assert!(list.entries[0].link.contains("/folder/"), "{:?}", list.entries);
    let body = list.render(ListFormat::Plain).unwrap();
    let checked = check(&client, &body, list.keys.as_ref(), None).await;
    assert_eq!(
        (checked[0].status, checked[0].name.as_deref(), checked[0].size),
        (LinkStatus::Alive, Some("Out"), Some(5010))
    );
    server.stop().await;
}

fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}
