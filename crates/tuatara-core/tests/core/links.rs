//! The links engine: a text's links checked (alive, removed, protected), the alive ones
//! downloaded and recorded in the ledger, done links skipped, and a ledger of older versions
//! read under today's ids.

use mega_api::{ClientBuilder, Link, LinkKind, NodeHandle};
use mega_proto::SubNode;
use mega_testserver::{TestServer, Version};
use mega_transfer::{Engine, EngineConfig};
use tuatara_core::links::{self, CheckOptions, Ledger, LedgerEntry, LedgerStatus, LinkStatus, Progress};

const EMAIL: &str = "links@tuatara.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_is_checked_downloaded_and_remembered() {
    let server = TestServer::start().await.unwrap();
    server.add_user(EMAIL, "pw", Version::V2).unwrap();
    let ha = server.seed_bytes(EMAIL, "/a.bin", &[1u8; 3000], 1_700_000_000).unwrap();
    let hs = server.seed_bytes(EMAIL, "/secret.txt", b"secret", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/F/inner.txt", b"inner", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/F/sub/deeper.txt", b"deeper!", 1_700_000_000).unwrap();
    let link_a = server.file_link(EMAIL, ha).unwrap();
    let folder = server.folder_link(EMAIL, "/F").unwrap();
    let secret = mega_api::resolve_link(&server.file_link(EMAIL, hs).unwrap(), None).await.unwrap();
    let protected = mega_api::protect_link(&secret, "pw").await.unwrap();
    // A link to a file that is not there (any more).
    let mut gone = mega_api::resolve_link(&link_a, None).await.unwrap();
    gone.handle = NodeHandle::from_b64("AAAAAAAA").unwrap();
    let gone = gone.to_url();
    let keyless = mega_api::resolve_link(&link_a, None).await.unwrap().url_without_key();
    let client = ClientBuilder::new().api_url(server.url()).build().unwrap();
    let text = format!("look: {link_a} and {folder}\n{gone} again {link_a}; {protected}!\n");

    let mut seen = Vec::new();
    let checked = links::check_text(&client, &text, CheckOptions::default(), &mut |p| seen.push(p)).await;
    let got: Vec<_> = checked.iter().map(|c| (c.status, c.name.clone(), c.size)).collect();
    assert_eq!(
        got,
        [
            (LinkStatus::Alive, Some("a.bin".into()), Some(3000)),
            (LinkStatus::Alive, Some("F".into()), Some(12)),
            (LinkStatus::Removed, None, None),
            (LinkStatus::NeedsPassword, None, None),
        ],
        "in order, de-duplicated"
    );
    assert_eq!(checked[3].kind, Some(LinkKind::File), "a #P! link's kind from its header");
    assert!(checked.iter().all(|c| !c.message.as_deref().unwrap_or("").contains(&link_a[link_a.len() - 10..])));
    assert_eq!(seen.first(), Some(&Progress::Checking(4)), "no decrypting without a password");
    assert_eq!(seen.iter().filter(|p| **p == Progress::Checked).count(), 4);
    let no_key = links::check_text(&client, &keyless, CheckOptions::default(), &mut |_| {}).await;
    assert_eq!(no_key[0].status, LinkStatus::NeedsKey);
    let key = CheckOptions { key: Some(link_a.rsplit('#').next().unwrap()), ..Default::default() };
    assert_eq!(links::check_text(&client, &keyless, key, &mut |_| {}).await[0].status, LinkStatus::Alive);

    // Downloaded: each alive link recorded in the ledger (0600).
    let tmp = tempfile::tempdir().unwrap();
    let ledger_path = tmp.path().join("data/links-ledger.json");
    let mut ledger = Ledger::open(&ledger_path).unwrap();
    let engine = Engine::new(EngineConfig::new(tmp.path().join("journal")), client.clone(), None, None).unwrap();
    let dl = tmp.path().join("dl");
    let mut checked = checked;
    let failed = links::download_checked(&engine, &mut ledger, &mut checked, &dl).await.unwrap();
    assert_eq!(failed, 0);
    assert_eq!((checked[0].status, checked[1].status), (LinkStatus::Done, LinkStatus::Done));
    assert_eq!(std::fs::read(dl.join("a.bin")).unwrap(), [1u8; 3000]);
    assert_eq!(std::fs::read(dl.join("F/sub/deeper.txt")).unwrap(), b"deeper!");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&ledger_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let body = std::fs::read_to_string(&ledger_path).unwrap();
    let key = link_a.rsplit('#').next().unwrap();
    assert!(!body.contains(key), "the ledger keeps no key: {body}");

    // Again, with the password: done links are not asked about (nor fetched), the #P! one is.
    let ledger = Ledger::open(&ledger_path).unwrap();
    let before = server.command_stats("g").commands;
    let mut seen = Vec::new();
    let opts = CheckOptions { password: Some("pw"), key: None, ledger: Some(&ledger) };
    let again = links::check_text(&client, &text, opts, &mut |p| seen.push(p)).await;
    let got: Vec<_> = again.iter().map(|c| (c.status, c.name.clone())).collect();
    assert_eq!(
        got,
        [
            (LinkStatus::Done, Some("a.bin".into())),
            (LinkStatus::Done, Some("F".into())),
            (LinkStatus::Removed, None),
            (LinkStatus::Alive, Some("secret.txt".into())),
        ]
    );
    assert_eq!(seen.first(), Some(&Progress::Decrypting(1)));
    assert_eq!(server.command_stats("g").commands - before, 2, "only the removed and the #P! file were asked");
    let wrong = CheckOptions { password: Some("nope"), ..Default::default() };
    let bad = links::check_text(&client, &protected, wrong, &mut |_| {}).await;
    assert_eq!((bad[0].status, bad[0].message.as_deref()), (LinkStatus::Bad, Some("wrong password for this #P! link")));

    // A list of links saved to a file, owner-only.
    let list = tmp.path().join("lists/links.txt");
    links::save_list(&list, &[link_a.clone(), folder.clone()]).unwrap();
    assert_eq!(std::fs::read_to_string(&list).unwrap(), format!("{link_a}\n{folder}\n"));
    server.stop().await;
}

#[test]
fn a_ledger_of_older_versions_is_read_under_todays_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("links-ledger.json");
    let (h, sub) = ("AAAAAAAA", "BBBBBBBB");
    // The CLI's key before the ids were one: `folder:H:SUB`.
    std::fs::write(
        &path,
        format!(
            r#"{{"folder:{h}:{sub}": {{"status": "done", "name": "x.txt", "size": 5}},
                 "file:{sub}": {{"status": "failed", "name": "", "size": 0, "error": "gone"}}}}"#
        ),
    )
    .unwrap();
    let mut ledger = Ledger::open(&path).unwrap();
    let link = Link {
        kind: LinkKind::Folder,
        handle: NodeHandle::from_b64(h).unwrap(),
        key: None,
        sub: Some(SubNode::File(NodeHandle::from_b64(sub).unwrap())),
    };
    assert_eq!(mega_transfer::watch::link_id(&link), format!("folder:{h}/{sub}"));
    assert_eq!(ledger.done(&link).map(|e| e.name.as_str()), Some("x.txt"));
    let file = Link { kind: LinkKind::File, handle: NodeHandle::from_b64(sub).unwrap(), key: None, sub: None };
    assert!(ledger.done(&file).is_none() && ledger.entry(&file).is_some(), "failed is not done");

    // The next write keeps it under the new id.
    let entry = LedgerEntry { status: LedgerStatus::Done, name: "y".into(), size: 1, error: None };
    ledger.record(&file, entry).unwrap();
    let body = std::fs::read_to_string(&path).unwrap();
    assert!(body.contains(&format!("folder:{h}/{sub}")) && !body.contains(&format!("folder:{h}:{sub}")), "{body}");
    assert!(Ledger::open(&path).unwrap().done(&file).is_some());

    // A damaged ledger is named.
    std::fs::write(&path, b"{ not json").unwrap();
    let e = Ledger::open(&path).unwrap_err().to_string();
    assert!(e.contains("links-ledger.json") && e.contains("damaged"), "{e}");
}
