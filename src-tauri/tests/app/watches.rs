//! Watches from the app, run by the core's supervisor from sign-in: an upload watch with ignore
//! globs and deletions sent to the rubbish bin, and a links-file watch whose new links download.

use serde_json::{json, Value};

use crate::support::{wait_for, Harness, EMAIL};

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn watch_add_takes_ignore_globs_and_sends_deletions_to_the_rubbish_bin() {
    let h = Harness::new();
    let local = h.dir.path().join("photos");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("before.txt"), b"there before").unwrap();
    std::fs::write(local.join("mine.skip"), b"ignored").unwrap();
    let args = json!({"local": s(&local), "remote": "Backup/", "ignore": ["*.skip", " "], "trashDeleted": true});
    assert_eq!(h.err_kind("watch_add", args.clone()), "notSignedIn");
    h.sign_in();
    assert_eq!(h.err_kind("watch_add", json!({"local": "relative/dir", "remote": "/B"})), "invalid");
    assert_eq!(h.err_kind("watch_add", json!({"local": s(&h.dir.path().join("none")), "remote": "/B"})), "notFound");

    let w = h.ok("watch_add", args.clone());
    assert_eq!((w["kind"].as_str(), w["remote"].as_str()), (Some("upload"), Some("/Backup")), "{w}");
    assert_eq!((w["ignore"].clone(), w["trashDeleted"].as_bool()), (json!(["*.skip"]), Some(true)), "{w}");
    assert_eq!(h.err_kind("watch_add", args), "exists");
    // Without the new arguments: nothing ignored beyond the defaults, deletions kept.
    let plain = h.dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let p = h.ok("watch_add", json!({"local": s(&plain), "remote": "/Plain"}));
    assert_eq!((p["ignore"].clone(), p["trashDeleted"].as_bool()), (json!([]), Some(false)), "{p}");
    h.ok("watch_remove", json!({"id": p["id"]}));

    let uploaded = wait_for(120, "the folder backed up", || h.server.find(EMAIL, "/Backup/before.txt"));
    assert!(h.server.find(EMAIL, "/Backup/mine.skip").is_none(), "ignored by its glob");
    std::fs::remove_file(local.join("before.txt")).unwrap();
    let rubbish = h.ok("roots", json!({}))["rubbish"]["handle"].as_str().unwrap().to_string();
    wait_for(120, "the deletion in the rubbish bin", || {
        (h.server.find(EMAIL, "/Backup/before.txt").is_none() && h.child(&rubbish, "before.txt").is_some())
            .then_some(())
    });
    assert_eq!(h.child(&rubbish, "before.txt").unwrap()["handle"].as_str(), Some(uploaded.to_b64().as_str()));

    let row = wait_for(30, "the watch's count", || {
        let list = h.ok("watch_list", json!({}));
        list.as_array()?.iter().find(|r| r["id"] == w["id"] && r["uploaded"].as_u64() >= Some(1)).cloned()
    });
    assert!(row["error"].is_null(), "{row}");
    h.ok("watch_pause", json!({"id": w["id"], "paused": true}));
    assert_eq!(h.ok("watch_list", json!({}))[0]["paused"], true);
    assert_eq!(h.err_kind("watch_pause", json!({"id": "nosuchid", "paused": true})), "notFound");
    h.ok("watch_remove", json!({"id": w["id"]}));
    assert_eq!(h.ok("watch_list", json!({})), json!([]));
    assert!(local.join("mine.skip").exists(), "nothing local deleted");
}

#[test]
fn a_links_file_watch_downloads_the_links_added_to_its_file() {
    let h = Harness::new();
    let one = h.server.seed_bytes(EMAIL, "/one.bin", &[7u8; 100_000], 1_700_000_000).unwrap();
    let two = h.server.seed_bytes(EMAIL, "/two.txt", b"two", 1_700_000_000).unwrap();
    let links = h.dir.path().join("links.txt");
    std::fs::write(&links, format!("first {}\n", h.server.file_link(EMAIL, one).unwrap())).unwrap();
    let dest = h.dir.path().join("from-links");
    h.sign_in();
    let missing = json!({"source": s(&h.dir.path().join("none.txt")), "dest": s(&dest)});
    assert_eq!(h.err_kind("watch_add_links", missing), "notFound");
    let w: Value = h.ok("watch_add_links", json!({"source": s(&links), "dest": s(&dest)}));
    assert_eq!((w["kind"].as_str(), w["local"].as_str()), (Some("links"), Some(s(&links).as_str())), "{w}");
    assert_eq!(w["remote"].as_str(), Some(s(&dest).as_str()));

    wait_for(120, "the first link downloaded", || dest.join("one.bin").exists().then_some(()));
    let mut text = std::fs::read_to_string(&links).unwrap();
    text.push_str(&format!("then {}\n", h.server.file_link(EMAIL, two).unwrap()));
    std::fs::write(&links, text).unwrap();
    wait_for(120, "the added link downloaded", || dest.join("two.txt").exists().then_some(()));
    assert_eq!(std::fs::read(dest.join("two.txt")).unwrap(), b"two");
    assert_eq!(std::fs::read(dest.join("one.bin")).unwrap(), vec![7u8; 100_000]);
    let row = wait_for(30, "the watch's count", || {
        let list = h.ok("watch_list", json!({}));
        list.as_array()?.iter().find(|r| r["id"] == w["id"] && r["uploaded"] == 2).cloned()
    });
    assert!(row["error"].is_null(), "{row}");
}
