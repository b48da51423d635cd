//! The key manager (`^!keys`, spec §6.10) against a server that plays "an account used from
//! today's official apps": shares and folder links whose `ok`/`ha` are dummies and whose keys
//! live only in `^!keys`.

use mega_api::{resolve_link, ActionPacket, ErrorKind, EventBatch, LinkKind, NodeKey};
use mega_proto::keymgr::{KeysContainer, ShareKey};
use mega_proto::{b64, Key128, NodeHandle};
use mega_testserver::support::server;
use mega_testserver::{TestServer, Version};
use serde_json::json;

use crate::support::{client, EMAIL, PASSWORD};

const BOB: &str = "bob@example.com";

/// An official-apps server: the default account's `/Pics` exported there, and Bob's `/Ski`
/// shared with it. Returns the server and the folder link the official app made.
async fn official_apps_account() -> (TestServer, String) {
    let server =
        server().account(EMAIL, PASSWORD, Version::V2).account(BOB, "pw", Version::V2).official_apps().start().await;
    server.seed_bytes(EMAIL, "/Pics/a.txt", b"pictures", 1).unwrap();
    let url = server.folder_link(EMAIL, "/Pics").unwrap();
    server.seed_bytes(BOB, "/Ski/plan.txt", b"the plan", 2).unwrap();
    server.share_folder(BOB, "/Ski", EMAIL, 0).unwrap();
    (server, url)
}

/// [`official_apps_account`] with a client and a session of the default account.
async fn logged_in_there() -> (TestServer, String, mega_api::Client, mega_api::Session) {
    let (server, url) = official_apps_account().await;
    let c = client(server.url());
    let s = c.login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    (server, url, c, s)
}

/// The share key of `folder` in the account's `^!keys`, read with the account's master key.
async fn key_in_keys(server: &TestServer, s: &mega_api::Session, folder: NodeHandle) -> Key128 {
    entry_in_keys(server, s, folder).await.key
}

/// The share-key record of `folder` in the account's `^!keys` (key and flags).
async fn entry_in_keys(server: &TestServer, s: &mega_api::Session, folder: NodeHandle) -> ShareKey {
    let master = Key128::new(server.account_secrets(EMAIL).unwrap().0);
    let attr = s.command(json!({"a": "uga", "ua": "^!keys", "v": 1})).await.unwrap();
    let keys = KeysContainer::decrypt_b64(attr["av"].as_str().unwrap(), &master).unwrap();
    keys.share_key(folder).expect("the folder's key in ^!keys")
}

/// As the SDK keeps it: a share key is marked in use in `^!keys` while its folder is shared.
/// Removing a folder link that was the folder's last sharing clears the bit and keeps the key
/// (trusted); exporting again marks it again, with the same key; a folder also shared with a
/// user keeps the bit when its link goes.
#[tokio::test]
async fn a_share_key_is_in_use_while_its_folder_is_shared() {
    let (server, _, _c, s) = logged_in_there().await;
    server.seed_bytes(EMAIL, "/Both/x.txt", b"x", 3).unwrap();
    server.share_folder(EMAIL, "/Both", BOB, 0).unwrap();
    let mut t = s.fetch_tree().await.unwrap();

    // The folder the official app exported, and one exported here.
    let pics = t.resolve("/Pics").unwrap();
    let root = t.root().unwrap();
    let fresh = s.mkdir(&mut t, root, "fresh").await.unwrap();
    let link = s.export(&mut t, fresh).await.unwrap();
    for folder in [pics, fresh] {
        let before = entry_in_keys(&server, &s, folder).await;
        assert!(before.in_use() && before.trusted(), "{folder}: in use while exported");
        s.unexport(&mut t, folder).await.unwrap();
        let after = entry_in_keys(&server, &s, folder).await;
        assert!(!after.in_use() && after.trusted(), "{folder}: shared no more");
        assert_eq!(after.key, before.key, "the key stays");
        assert!(!t.is_shared_out(folder));
    }
    let again = s.export(&mut t, fresh).await.unwrap();
    assert_eq!(again.key, link.key, "exported again with its key");
    assert!(entry_in_keys(&server, &s, fresh).await.in_use());

    // Shared with Bob and exported: the link removed, the share stands, the bit stays.
    let both = t.resolve("/Both").unwrap();
    assert!(t.is_shared_with_users(both));
    s.export(&mut t, both).await.unwrap();
    s.unexport(&mut t, both).await.unwrap();
    assert!(entry_in_keys(&server, &s, both).await.in_use());
    assert!(t.is_shared_out(both) && t.is_shared_with_users(both));
    server.stop().await;
}

#[tokio::test]
async fn shares_and_folder_links_of_the_official_apps_open_with_the_keys_in_the_key_manager() {
    let (server, url, c, s) = logged_in_there().await;
    let mut t = s.fetch_tree().await.unwrap();
    assert!(t.key_manager().unwrap());
    assert!(t.nodes().all(|n| n.is_decrypted()), "every node opens, the incoming share's with ^!keys");
    let plan = t.resolve("//shares/Ski/plan.txt").unwrap();
    assert_eq!(s.download_bytes(&t, plan).await.unwrap(), b"the plan");

    // The folder exported in the official app: its link's key is the one in `^!keys`, known
    // before and after `export`, which sends no `s2` (the share is never re-keyed).
    let pics = t.resolve("/Pics").unwrap();
    assert!(t.is_shared_out(pics));
    let made_there = resolve_link(&url, None).await.unwrap();
    let in_keys = key_in_keys(&server, &s, pics).await;
    assert_eq!(made_there.key, Some(NodeKey::Folder(in_keys.clone())));
    assert_eq!(t.public_link(pics).unwrap().key, made_there.key);
    let s2 = server.command_stats("s2").commands;
    let link = s.export(&mut t, pics).await.unwrap();
    assert_eq!((link.kind, link.handle, &link.key), (LinkKind::Folder, made_there.handle, &made_there.key));
    assert_eq!(server.command_stats("s2").commands, s2);

    // The link opens the folder (mega-api's own folder-link opening).
    let folder = c.open_folder_link(&resolve_link(&link.to_url(), None).await.unwrap()).unwrap();
    let ft = folder.fetch_tree().await.unwrap();
    assert_eq!(ft.root(), Some(pics));
    assert!(ft.nodes().all(|n| n.is_decrypted()));
    let a = ft.resolve("/a.txt").unwrap();
    let url = folder.download_url(a).await.unwrap();
    assert_eq!(c.download_all(&url, &ft.get(a).unwrap().file_key().unwrap()).await.unwrap(), b"pictures");

    // A resumed session reads `^!keys` with its tree too.
    let resumed = c.resume(&s.save()).await.unwrap();
    let t = resumed.fetch_tree().await.unwrap();
    assert!(t.nodes().all(|n| n.is_decrypted()));
    assert_eq!(t.public_link(pics).unwrap().key, made_there.key);
    server.stop().await;
}

#[tokio::test]
async fn a_corrupt_key_manager_leaves_the_drive_listed_and_existing_shares_unchanged() {
    let (server, _, c, s) = logged_in_there().await;
    // The attribute overwritten (through the server's store, version-checked) with bytes that
    // have the container's format byte but do not decrypt.
    let attr = s.command(json!({"a": "uga", "ua": "^!keys", "v": 1})).await.unwrap();
    let mut garbage = vec![20u8, 0];
    garbage.extend_from_slice(&[7u8; 60]);
    s.command(json!({"a": "upv", "^!keys": [b64::encode(&garbage), attr["v"]]})).await.unwrap();

    let mut t = s.fetch_tree().await.unwrap();
    assert_eq!(t.key_manager().unwrap_err().kind(), ErrorKind::Crypto);
    let a = t.resolve("/Pics/a.txt").unwrap();
    assert_eq!(s.download_bytes(&t, a).await.unwrap(), b"pictures");
    let share = t.incoming_shares()[0];
    assert!(!t.get(share).unwrap().is_decrypted(), "the share's key was only in ^!keys");

    // Exporting the folder exported elsewhere needs its key: a typed error, nothing sent.
    let pics = t.resolve("/Pics").unwrap();
    assert_eq!(t.public_link(pics).unwrap().key, None);
    let (s2, l) = (server.command_stats("s2").commands, server.command_stats("l").commands);
    let err = s.export(&mut t, pics).await.unwrap_err();
    assert!(matches!(err, mega_api::Error::KeyManager(_)), "{err}");
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!((server.command_stats("s2").commands, server.command_stats("l").commands), (s2, l));

    // A new folder still exports, and its link opens.
    let root = t.root().unwrap();
    let fresh = s.mkdir(&mut t, root, "fresh").await.unwrap();
    let link = s.export(&mut t, fresh).await.unwrap();
    let folder = c.open_folder_link(&resolve_link(&link.to_url(), None).await.unwrap()).unwrap();
    assert_eq!(folder.fetch_tree().await.unwrap().root(), Some(fresh));
    server.stop().await;
}

#[tokio::test]
async fn a_folder_exported_here_has_its_key_written_into_the_key_manager_merged_with_changes_made_elsewhere() {
    let (server, _, c, s) = logged_in_there().await;
    let mut t = s.fetch_tree().await.unwrap();
    let master = Key128::new(server.account_secrets(EMAIL).unwrap().0);
    let read = || async {
        let attr = s.command(json!({"a": "uga", "ua": "^!keys", "v": 1})).await.unwrap();
        KeysContainer::decrypt_b64(attr["av"].as_str().unwrap(), &master).unwrap()
    };
    let before = read().await;

    // Another client writes `^!keys` after this tree read it (Bob shares another folder, which
    // the official app records there): the `upv` of the export loses the race, re-reads and
    // merges.
    server.seed_bytes(BOB, "/Later/x.txt", b"x", 3).unwrap();
    server.share_folder(BOB, "/Later", EMAIL, 0).unwrap();
    let later = server.find(BOB, "/Later").unwrap();
    let root = t.root().unwrap();
    let fresh = s.mkdir(&mut t, root, "fresh").await.unwrap();
    let link = s.export(&mut t, fresh).await.unwrap();
    let after = read().await;
    let Some(NodeKey::Folder(key)) = &link.key else { panic!("a folder key") };
    let written = after.share_key(fresh).expect("the new link's key in ^!keys");
    assert_eq!(&written.key, key);
    assert!(written.trusted() && written.in_use());
    assert!(after.share_key(later).is_some(), "the key written elsewhere is kept");
    assert!(after.generation() > before.generation() + 1);
    for (h, k) in before.share_keys().into_iter().map(|s| (s.handle, s.key)) {
        assert_eq!(after.share_key(h).unwrap().key, k);
    }
    // Records this client does not know are kept as they were.
    let kept: Vec<_> = before.records().filter(|(tag, _)| *tag != 4 && *tag != 48).collect();
    let now: Vec<_> = after.records().filter(|(tag, _)| *tag != 4 && *tag != 48).collect();
    assert_eq!(kept, now);
    // Re-read, the tree's copy is current: a second export of the folder writes nothing.
    s.reread_key_manager(&mut t).await.unwrap();
    assert!(t.key_manager().unwrap());
    s.export(&mut t, fresh).await.unwrap();
    assert_eq!(read().await.generation(), after.generation());
    // Removed and made again, the link keeps the folder's key (its nodes keep their entries).
    s.unexport(&mut t, fresh).await.unwrap();
    s.upload_bytes(&mut t, fresh, "f.txt", b"fresh", 5).await.unwrap();
    let again = s.export(&mut t, fresh).await.unwrap();
    assert_eq!(&again.key, &link.key);
    let folder = c.open_folder_link(&resolve_link(&again.to_url(), None).await.unwrap()).unwrap();
    let ft = folder.fetch_tree().await.unwrap();
    assert!(ft.resolve("/f.txt").is_some() && ft.nodes().all(|n| n.is_decrypted()));
    server.stop().await;
}

#[tokio::test]
async fn the_key_manager_is_followed_through_action_packets() {
    let (server, _, c, s) = logged_in_there().await;
    let mut t = s.fetch_tree().await.unwrap();
    let mut events = s.events(&t);
    // The official app exports another folder after this tree was read: its key reaches this
    // client only through `^!keys`, announced by a `ua` packet.
    server.seed_bytes(EMAIL, "/Later/b.txt", b"later", 4).unwrap();
    let url = server.folder_link(EMAIL, "/Later").unwrap();
    let made_there = resolve_link(&url, None).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut keys_written = false;
    let later = loop {
        let batch = tokio::time::timeout_at(deadline, events.next()).await.expect("the packets").unwrap();
        if let EventBatch::Packets { packets, .. } = &batch {
            keys_written |= packets.iter().any(|p| matches!(p, ActionPacket::KeyManager { .. }));
        }
        s.apply_batch(&mut t, &batch).await.unwrap();
        match t.resolve("/Later") {
            Some(h) if keys_written && !t.key_manager_stale() => break h,
            _ => {}
        }
    };
    // This tree has not seen the share (no packet for it) but holds its key: exporting the
    // folder here gives the link made there, the share's key untouched.
    let link = s.export(&mut t, later).await.unwrap();
    assert_eq!((link.handle, &link.key), (made_there.handle, &made_there.key));
    let folder = c.open_folder_link(&resolve_link(&link.to_url(), None).await.unwrap()).unwrap();
    assert!(folder.fetch_tree().await.unwrap().nodes().all(|n| n.is_decrypted()));
    server.stop().await;
}

#[tokio::test]
async fn a_folder_link_made_by_another_session_is_followed_with_its_key() {
    let (server, _, c, a) = logged_in_there().await;
    let b = c.login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut ta = a.fetch_tree().await.unwrap();
    let mut tb = b.fetch_tree().await.unwrap();
    let mut events = b.events(&tb);
    let root = ta.root().unwrap();
    let folder = a.mkdir(&mut ta, root, "from-a").await.unwrap();
    let link = a.export(&mut ta, folder).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while tb.public_link(folder).is_none_or(|l| l.key.is_none()) || tb.key_manager_stale() {
        let batch = tokio::time::timeout_at(deadline, events.next()).await.expect("the packets").unwrap();
        b.apply_batch(&mut tb, &batch).await.unwrap();
    }
    assert!(tb.is_shared_out(folder));
    assert_eq!(tb.public_link(folder).unwrap(), link);
    // Exported again from the other session: the same link, the share untouched.
    let s2 = server.command_stats("s2").commands;
    assert_eq!(b.export(&mut tb, folder).await.unwrap(), link);
    assert_eq!(server.command_stats("s2").commands, s2);
    server.stop().await;
}

#[tokio::test]
async fn a_folder_exported_elsewhere_since_the_tree_was_read_keeps_the_key_its_ok_holds() {
    // An older client's share: a real `ok`, no `^!keys` entry; this tree predates it.
    let server = crate::support::server_with_account().await;
    server.seed_bytes(EMAIL, "/Old/o.txt", b"old", 6).unwrap();
    let c = client(server.url());
    let s = c.login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut t = s.fetch_tree().await.unwrap();
    let old = t.resolve("/Old").unwrap();
    let made_there = resolve_link(&server.folder_link(EMAIL, "/Old").unwrap(), None).await.unwrap();
    let link = s.export(&mut t, old).await.unwrap();
    assert_eq!((link.handle, &link.key), (made_there.handle, &made_there.key));
    let folder = c.open_folder_link(&resolve_link(&link.to_url(), None).await.unwrap()).unwrap();
    assert!(folder.fetch_tree().await.unwrap().nodes().all(|n| n.is_decrypted()));
    server.stop().await;
}

#[tokio::test]
async fn a_folder_link_whose_key_is_nowhere_is_a_typed_error_and_nothing_is_sent() {
    let (server, _, _, s) = logged_in_there().await;
    // `^!keys` readable, but without the key of the folder the official app exported.
    let master = Key128::new(server.account_secrets(EMAIL).unwrap().0);
    let pics = server.find(EMAIL, "/Pics").unwrap();
    let attr = s.command(json!({"a": "uga", "ua": "^!keys", "v": 1})).await.unwrap();
    let mut keys = KeysContainer::decrypt_b64(attr["av"].as_str().unwrap(), &master).unwrap();
    assert!(keys.remove_share_key(pics));
    keys.bump_generation();
    let av = keys.encrypt_b64(&master, &mut rand_core::OsRng);
    s.command(json!({"a": "upv", "^!keys": [av, attr["v"]]})).await.unwrap();

    let mut t = s.fetch_tree().await.unwrap();
    assert!(t.key_manager().unwrap());
    assert_eq!(t.public_link(pics).unwrap().key, None);
    let (s2, l) = (server.command_stats("s2").commands, server.command_stats("l").commands);
    let err = s.export(&mut t, pics).await.unwrap_err();
    assert!(matches!(err, mega_api::Error::NoShareKey { node } if node == pics), "{err}");
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert_eq!((server.command_stats("s2").commands, server.command_stats("l").commands), (s2, l));
    server.stop().await;
}
