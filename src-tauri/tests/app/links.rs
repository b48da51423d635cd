//! The links engine of the core in the app: downloads recorded in the links ledger (shared with
//! `tuatara-cli links get`) and reported `done` by the next check, a node's link removed, and
//! an exported list of links saved to a file.

use serde_json::json;

use crate::support::{wait_for, Harness, EMAIL};

#[test]
fn downloaded_links_are_recorded_and_checked_as_done() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Share/a.bin", &[7u8; 3000], 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Share/sub/b.bin", &[8u8; 100], 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/other.txt", b"other", 1_700_000_000).unwrap();
    h.sign_in();
    let cloud = h.cloud();
    let share = h.child(&cloud, "Share").unwrap();
    let other = h.child(&cloud, "other.txt").unwrap();
    let file = h.child(share["handle"].as_str().unwrap(), "a.bin").unwrap();
    let file_link = h.ok("get_link", json!({"handle": file["handle"]}))["link"].as_str().unwrap().to_string();
    let folder_link = h.ok("get_link", json!({"handle": share["handle"]}))["link"].as_str().unwrap().to_string();
    let other_link = h.ok("get_link", json!({"handle": other["handle"]}))["link"].as_str().unwrap().to_string();
    let text = format!("{file_link}\n{folder_link}\n{other_link}");
    let statuses = |h: &Harness| -> Vec<String> {
        let checks = h.ok("links_check", json!({ "text": text }));
        checks.as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(statuses(&h), ["alive", "alive", "alive"]);

    let dest = h.dir.path().join("got");
    let ids = h.ok("links_download", json!({"links": [file_link, folder_link], "dest": dest.to_string_lossy()}));
    assert_eq!(ids.as_array().unwrap().len(), 3, "a.bin, and the folder's two files");
    wait_for(30, "both links done per the ledger", || (statuses(&h) == ["done", "done", "alive"]).then_some(()));
    assert_eq!(std::fs::read(dest.join("a.bin")).unwrap(), [7u8; 3000]);
    assert_eq!(std::fs::read(dest.join("Share/sub/b.bin")).unwrap(), [8u8; 100]);
    let checks = h.ok("links_check", json!({ "text": text }));
    assert_eq!((checks[1]["name"].as_str(), checks[1]["size"].as_u64()), (Some("Share"), Some(3100)));
    // The one ledger, in the data dir the CLI uses too, with no key in it.
    let ledger = std::fs::read_to_string(h.dir.path().join("data/links-ledger.json")).unwrap();
    assert!(!ledger.contains(file_link.rsplit('#').next().unwrap()), "{ledger}");
    assert_eq!(ledger.matches("\"done\"").count(), 2, "{ledger}");

    // A damaged ledger is an error naming the file, not a sign-in problem.
    std::fs::write(h.dir.path().join("data/links-ledger.json"), b"{ damaged").unwrap();
    let e = h.invoke("links_check", json!({ "text": text })).expect_err("a damaged ledger");
    assert_eq!(e["kind"], "io", "{e}");
    assert!(e["message"].as_str().unwrap().contains("links-ledger.json"), "{e}");
}

#[test]
fn a_link_is_removed_and_a_list_of_links_saved() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Docs/a.txt", b"a", 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Docs/b.txt", b"bb", 1_700_000_000).unwrap();
    h.sign_in();
    let cloud = h.cloud();
    let docs = h.child(&cloud, "Docs").unwrap();
    let docs_h = docs["handle"].as_str().unwrap().to_string();
    let a = h.child(&docs_h, "a.txt").unwrap();
    let link = h.ok("get_link", json!({"handle": a["handle"]}))["link"].as_str().unwrap().to_string();
    assert_eq!(h.ok("links_check", json!({ "text": link }))[0]["status"], "alive");

    h.ok("link_remove", json!({"handle": a["handle"]}));
    assert_eq!(h.ok("links_check", json!({ "text": link }))[0]["status"], "removed");
    wait_for(10, "a.txt no longer exported", || h.child(&docs_h, "a.txt").filter(|n| n["exported"] == false));
    assert_eq!(h.err_kind("link_remove", json!({"handle": "zzzzzzzz"})), "notFound");

    let list = h.ok("export_folder_links", json!({"handle": docs_h}));
    let links: Vec<String> = list.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    assert_eq!(links.len(), 2);
    let path = h.dir.path().join("lists/Docs links.txt");
    h.ok("links_save", json!({"path": path.to_string_lossy(), "links": links}));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{}\n", links.join("\n")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "the links carry keys");
    }
    assert_eq!(h.err_kind("links_save", json!({"path": " ", "links": links})), "invalid");
}

/// A folder exported as a csv links file with its keys apart, as `tuatara-cli links get --keys`
/// reads it back: each file's path and size in it, no key in the list, the keys by handle in
/// the key file, both the user's alone; a password and keys apart at once is `invalid`; a
/// name that hides an executable is flagged by the check.
#[test]
fn a_folder_is_saved_as_a_links_file_with_its_keys_apart() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Out/a.bin", &[1u8; 1500], 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Out/sub/clip.mp4.exe", &[2u8; 700], 1_700_000_000).unwrap();
    h.sign_in();
    let out = h.child(&h.cloud(), "Out").unwrap();
    let list = h.dir.path().join("out.csv");
    let keys = h.dir.path().join("out.csv.keys");
    let args = |password: Option<&str>| {
        json!({"handle": out["handle"], "path": list.to_string_lossy(), "format": "csv",
               "keyFile": keys.to_string_lossy(), "password": password, "asFolder": false})
    };
    assert_eq!(h.err_kind("links_export_save", args(Some("pw"))), "invalid");
    assert_eq!(h.ok("links_export_save", args(None)), 2);
    for f in [&list, &keys] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600, "{f:?}");
    }
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(text.starts_with("path,size,fingerprint,mtime,link"), "{text}");
    assert!(text.contains("/Out/a.bin,1500,") && text.contains("/Out/sub/clip.mp4.exe,700,"), "{text}");
    let key_file = tuatara_core::links::KeyFile::load(&keys).unwrap();
    let entries = tuatara_core::links::read_list(&text, Some(&key_file)).unwrap();
    assert_eq!(entries.len(), 2);
    let mut joined = Vec::new();
    for e in &entries {
        let tuatara_core::links::ParsedLink::Plain(link) = &e.link else { panic!("a plain link") };
        let key = link.key_b64().expect("the key file gave it its key");
        assert!(!text.contains(key.as_str()), "a key is in the list");
        joined.push(link.to_url());
    }
    let checks = h.ok("links_check", json!({ "text": joined.join("\n") }));
    let warnings: Vec<bool> = checks.as_array().unwrap().iter().map(|c| c["warning"].is_string()).collect();
    assert_eq!(warnings, [false, true], "{checks}");
}

/// The receiving side of keys apart: the csv list checked with the key file's text beside it
/// (the links dialog's "keys sent apart") comes back ready, its links carrying their keys; the
/// list alone needs keys; a malformed key file is `invalid`.
#[test]
fn a_keyless_list_is_checked_with_its_keys_pasted_apart() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Apart/a.bin", &[3u8; 1200], 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Apart/b.bin", &[4u8; 900], 1_700_000_000).unwrap();
    h.sign_in();
    let folder = h.child(&h.cloud(), "Apart").unwrap();
    let list = h.dir.path().join("apart.csv");
    let keys = h.dir.path().join("apart.keys");
    h.ok(
        "links_export_save",
        json!({"handle": folder["handle"], "path": list.to_string_lossy(), "format": "csv",
               "keyFile": keys.to_string_lossy(), "asFolder": false}),
    );
    let (text, key_text) = (std::fs::read_to_string(&list).unwrap(), std::fs::read_to_string(&keys).unwrap());
    let statuses = |checks: &serde_json::Value| -> Vec<String> {
        checks.as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(statuses(&h.ok("links_check", json!({"text": text}))), ["needsKey", "needsKey"]);
    let checks = h.ok("links_check", json!({"text": text, "keys": key_text}));
    assert_eq!(statuses(&checks), ["alive", "alive"], "{checks}");
    let ready: Vec<String> =
        checks.as_array().unwrap().iter().map(|c| c["link"].as_str().unwrap().to_string()).collect();
    assert!(ready.iter().all(|l| l.contains('#')), "the links carry their keys: {ready:?}");
    let dest = h.dir.path().join("received");
    h.ok("links_download", json!({"links": ready, "dest": dest.to_string_lossy()}));
    wait_for(30, "both files", || std::fs::read(dest.join("b.bin")).ok().filter(|b| b.len() == 900));
    assert_eq!(h.err_kind("links_check", json!({"text": text, "keys": "not a key file"})), "invalid");
}

/// The Links page: "Received" lists the ledger, re-checks it (now, or by itself at sign-in when
/// the setting says it is due) and forgets links; "Shared by me" lists what the account
/// exported, with keys apart, and what the service says of each; a batch of `#P!` links opens
/// with one password.
#[test]
fn the_links_page_shows_received_and_shared_links() {
    let h = Harness::new();
    let t = 1_700_000_000;
    h.server.seed_bytes(EMAIL, "/Album/a.jpg", b"a picture", t).unwrap();
    h.server.seed_bytes(EMAIL, "/notes.txt", b"notes", t).unwrap();
    h.server.seed_bytes(EMAIL, "/gone.txt", b"gone", t).unwrap();
    h.sign_in();
    let cloud = h.cloud();
    let handle = |name: &str| h.child(&cloud, name).unwrap()["handle"].as_str().unwrap().to_string();
    let (album, notes, gone) = (handle("Album"), handle("notes.txt"), handle("gone.txt"));
    let link_of = |h_: &str, pw: Option<&str>| -> String {
        h.ok("get_link", json!({"handle": h_, "password": pw}))["link"].as_str().unwrap().to_string()
    };
    let (album_link, notes_link, gone_link) = (link_of(&album, None), link_of(&notes, None), link_of(&gone, None));

    // Shared by me: the three exports, by path, each link opening what it names.
    let shared = h.ok("links_shared", json!({}));
    let rows: Vec<_> =
        shared.as_array().unwrap().iter().map(|s| (s["path"].as_str().unwrap(), s["kind"].as_str().unwrap())).collect();
    assert_eq!(rows, [("/Album", "folder"), ("/gone.txt", "file"), ("/notes.txt", "file")]);
    assert_eq!(shared[2]["link"], notes_link.as_str());
    let apart = format!("{}#{}", shared[2]["linkWithoutKey"].as_str().unwrap(), shared[2]["key"].as_str().unwrap());
    assert_eq!(apart, notes_link, "the link without its key and the key rejoin");
    assert_eq!(shared[0]["size"], 9);
    let statuses = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(statuses(&h.ok("links_shared_check", json!({}))), ["alive", "alive", "alive"]);

    // Received: two links downloaded; one then disappears at the source.
    let dest = h.dir.path().join("got");
    h.ok("links_download", json!({"links": [album_link, gone_link], "dest": dest.to_string_lossy()}));
    wait_for(30, "both in the ledger", || {
        (h.ok("links_received", json!({})).as_array().unwrap().len() == 2).then_some(())
    });
    let received = h.ok("links_received", json!({}));
    let names: Vec<_> = received.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Album", "gone.txt"]);
    assert!(received[0]["health"].is_null() && received[0]["downloaded"] == true, "{received}");
    assert!(!received.to_string().contains(album_link.rsplit('#').next().unwrap()), "no key: {received}");
    let checked = h.ok("links_received_check", json!({}));
    assert_eq!(statuses_of(&checked, "health"), ["alive", "alive"]);
    h.ok("trash", json!({"handles": [gone]}));
    h.ok("delete_forever", json!({"handles": [gone]}));
    let checked = h.ok("links_received_check", json!({}));
    assert_eq!(statuses_of(&checked, "health"), ["alive", "removed"]);
    let history: Vec<_> = checked[1]["history"].as_array().unwrap().iter().map(|c| c["status"].clone()).collect();
    assert_eq!(history, [json!("alive"), json!("removed")]);
    assert!(checked[1]["checkedAt"].as_i64().unwrap() > t);
    assert_eq!(
        statuses(&h.ok("links_shared_check", json!({}))),
        ["alive", "alive"],
        "the deleted file's link went with it"
    );

    // Forgotten, then re-checked by itself at the next sign-in once the setting asks for it.
    h.ok("links_received_forget", json!({"ids": [checked[1]["id"]]}));
    assert_eq!(h.ok("links_received", json!({})).as_array().unwrap().len(), 1);
    let ledger = h.dir.path().join("data/links-ledger.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ledger).unwrap()).unwrap();
    let line = doc.as_object_mut().unwrap().values_mut().next().unwrap();
    line.as_object_mut().unwrap().remove("checked");
    std::fs::write(&ledger, doc.to_string()).unwrap();
    assert!(h.ok("links_received", json!({}))[0]["health"].is_null());
    let mut settings = h.ok("settings_get", json!({}));
    settings["linksRecheckHours"] = json!(24);
    h.ok("settings_set", json!({ "settings": settings }));
    settings["linksRecheckHours"] = json!(721);
    assert_eq!(h.err_kind("settings_set", json!({ "settings": settings })), "invalid");
    h.ok("logout", json!({}));
    h.sign_in();
    wait_for(30, "re-checked at sign-in", || h.ok("links_received", json!({}))[0]["health"].as_str().map(|_| ()));

    // A batch of `#P!` links opened with one password; the plain link it opens to downloads.
    let protected_notes = link_of(&notes, Some("pw"));
    let protected_album = link_of(&album, Some("pw"));
    let text = format!("{protected_notes}\n{protected_album}");
    let locked = h.ok("links_check", json!({ "text": text }));
    assert_eq!(statuses(&locked), ["needsPassword", "needsPassword"]);
    let wrong = h.ok("links_check", json!({ "text": text, "password": "nope" }));
    assert_eq!(statuses(&wrong), ["needsPassword", "needsPassword"]);
    assert_eq!(wrong[0]["message"], "wrong password");
    let opened = h.ok("links_check", json!({ "text": text, "password": "pw" }));
    assert_eq!(statuses(&opened), ["alive", "done"], "the album was downloaded before");
    assert_eq!(opened[0]["link"], notes_link.as_str(), "the plain link, ready to download");
    h.ok("links_download", json!({"links": [opened[0]["link"]], "dest": dest.to_string_lossy()}));
    wait_for(30, "notes downloaded", || std::fs::read(dest.join("notes.txt")).ok().filter(|b| b == b"notes"));
}

fn statuses_of(v: &serde_json::Value, field: &str) -> Vec<String> {
    v.as_array().unwrap().iter().map(|c| c[field].as_str().unwrap_or("none").to_string()).collect()
}

/// The demo drive's exported folder, file and protected file show under "Shared by me" with
/// their keys, and they open.
#[test]
fn the_demo_drive_shares_links() {
    let h = Harness::new();
    h.ok("open_demo", json!({}));
    let shared = h.ok("links_shared", json!({}));
    let shared = shared.as_array().unwrap();
    assert!(shared.len() >= 3, "{shared:?}");
    assert!(shared.iter().any(|s| s["kind"] == "folder"), "{shared:?}");
    for s in shared {
        assert!(s["key"].is_string(), "the app holds the key of {}", s["path"]);
    }
    let text: Vec<&str> = shared.iter().map(|s| s["link"].as_str().unwrap()).collect();
    let checks = h.ok("links_check", json!({ "text": text.join("\n") }));
    assert!(checks.as_array().unwrap().iter().all(|c| c["status"] == "alive"), "{checks}");
    let status = h.ok("links_shared_check", json!({}));
    assert!(status.as_array().unwrap().iter().all(|c| c["status"] == "alive"), "{status}");
}
