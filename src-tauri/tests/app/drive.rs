//! Listing and operations on the drive, links made and read back.

use serde_json::json;

use crate::support::{wait_for, Harness, EMAIL};

#[test]
fn folders_are_made_renamed_moved_trashed_restored_and_deleted() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Docs/readme.txt", b"hello", 1_700_000_000).unwrap();
    h.sign_in();
    let cloud = h.cloud();
    let docs = h.child(&cloud, "Docs").expect("Docs");
    assert_eq!(docs["kind"], "folder");
    let listing = h.ok("list_folder", json!({"handle": docs["handle"]}));
    assert_eq!(listing["path"].as_array().unwrap().len(), 2, "root and Docs");
    let readme = &listing["children"][0];
    assert_eq!((readme["name"].as_str(), readme["size"].as_u64()), (Some("readme.txt"), Some(5)));
    assert_eq!(readme["mtime"], 1_700_000_000);

    let made = h.ok("mkdir", json!({"parent": cloud, "name": "Projects"}));
    assert_eq!(made["name"], "Projects");
    assert_eq!(h.err_kind("mkdir", json!({"parent": cloud, "name": "Projects"})), "exists");
    assert_eq!(h.err_kind("list_folder", json!({"handle": readme["handle"]})), "invalid", "a file is not a folder");
    assert_eq!(h.err_kind("list_folder", json!({"handle": "zzzzzzzz"})), "notFound");
    h.ok("rename", json!({"handle": made["handle"], "name": "Work"}));
    h.ok("move_nodes", json!({"handles": [readme["handle"]], "target": made["handle"]}));
    assert!(h.child(made["handle"].as_str().unwrap(), "readme.txt").is_some());
    // The server's own action packet for the mkdir may land after the rename and name the
    // folder Projects again for a moment; the rename's packet follows it.
    wait_for(10, "the renamed folder among the subfolders", || {
        let subs = h.ok("subfolders", json!({"handle": cloud}));
        let names: Vec<_> = subs.as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_string()).collect();
        (names.contains(&"Work".to_string()) && names.contains(&"Docs".to_string())).then_some(())
    });

    let found = h.ok("search", json!({"query": "README"}));
    assert_eq!(found.as_array().unwrap().len(), 1, "case-insensitive: {found}");
    assert_eq!(h.ok("search", json!({"query": "*.txt", "under": docs["handle"]})), json!([]));

    let props = h.ok("properties", json!({"handle": made["handle"]}));
    assert_eq!((props["files"].as_u64(), props["totalSize"].as_u64()), (Some(1), Some(5)));
    assert_eq!(props["path"], "/Work");

    assert_eq!(h.err_kind("delete_forever", json!({"handles": [made["handle"]]})), "invalid", "not in the rubbish");
    // Each step waits for the tree to settle: the server's packets for earlier steps may still
    // be on their way (see the rename above).
    let settles = |what: &str, f: &dyn Fn() -> bool| wait_for(10, what, || f().then_some(()));
    h.ok("trash", json!({"handles": [made["handle"]]}));
    settles("Work gone from the drive", &|| h.child(&cloud, "Work").is_none());
    let rubbish = h.ok("roots", json!({}))["rubbish"]["handle"].as_str().unwrap().to_string();
    settles("Work in the rubbish bin", &|| h.child(&rubbish, "Work").is_some_and(|n| n["inRubbish"] == true));
    h.ok("restore", json!({"handles": [made["handle"]]}));
    settles("Work back in the drive", &|| h.child(&cloud, "Work").is_some());
    h.ok("trash", json!({"handles": [made["handle"]]}));
    settles("Work in the rubbish bin again", &|| h.child(&rubbish, "Work").is_some());
    h.ok("delete_forever", json!({"handles": [made["handle"]]}));
    settles("Work deleted for good", &|| h.child(&rubbish, "Work").is_none() && h.child(&cloud, "Work").is_none());
}

#[test]
fn links_are_made_checked_browsed_and_imported() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Share/a.bin", &[7u8; 3000], 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Share/sub/b.bin", &[8u8; 100], 1_700_000_000).unwrap();
    h.sign_in();
    let cloud = h.cloud();
    let share = h.child(&cloud, "Share").unwrap();
    let file = h.child(share["handle"].as_str().unwrap(), "a.bin").unwrap();

    let link = h.ok("get_link", json!({"handle": file["handle"]}));
    let url = link["link"].as_str().unwrap();
    assert!(url.ends_with(link["key"].as_str().unwrap()) && url.starts_with(link["linkWithoutKey"].as_str().unwrap()));
    let folder_link = h.ok("get_link", json!({"handle": share["handle"]}))["link"].as_str().unwrap().to_string();
    assert!(wait_for(10, "the file shows as exported", || {
        h.child(share["handle"].as_str().unwrap(), "a.bin").filter(|f| f["exported"] == true)
    })["exported"]
        .as_bool()
        .unwrap());

    let text = format!("see {url} and {folder_link} and again {url}");
    let checks = h.ok("links_check", json!({ "text": text }));
    let checks = checks.as_array().unwrap();
    assert_eq!(checks.len(), 2, "de-duplicated: {checks:?}");
    assert_eq!((checks[0]["status"].as_str(), checks[0]["name"].as_str()), (Some("alive"), Some("a.bin")));
    assert_eq!((checks[1]["kind"].as_str(), checks[1]["size"].as_u64()), (Some("folder"), Some(3100)));

    let keyless = link["linkWithoutKey"].as_str().unwrap();
    let needs_key = h.ok("links_check", json!({ "text": keyless }));
    assert_eq!(needs_key[0]["status"], "needsKey");
    let unlocked = h.ok("links_unlock", json!({"link": keyless, "key": link["key"]}));
    assert_eq!(unlocked["status"], "alive");

    let protected = h.ok("get_link", json!({"handle": file["handle"], "password": "s3cret"}))["link"].clone();
    assert_eq!(h.ok("links_check", json!({ "text": protected }))[0]["status"], "needsPassword");
    assert_eq!(h.err_kind("links_unlock", json!({"link": protected, "password": "wrong"})), "auth");
    assert_eq!(h.ok("links_unlock", json!({"link": protected, "password": "s3cret"}))["name"], "a.bin");
    assert_eq!(h.err_kind("links_import", json!({"links": ["https://example.com/x"], "parent": cloud})), "badLink");

    let browsed = h.ok("folder_link_open", json!({ "link": folder_link }));
    assert_eq!(browsed["root"]["name"], "Share");
    assert_eq!(browsed["nodes"].as_array().unwrap().len(), 3, "a.bin, sub, sub/b.bin");

    let target = h.ok("mkdir", json!({"parent": cloud, "name": "Imported"}))["handle"].as_str().unwrap().to_string();
    h.ok("links_import", json!({"links": [url, folder_link], "parent": target}));
    assert!(h.child(&target, "a.bin").is_some());
    let copied = h.child(&target, "Share").expect("the folder came along");
    assert!(h.child(copied["handle"].as_str().unwrap(), "sub").is_some());
}

#[test]
fn duplicate_names_are_renamed_apart() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Dup/x.txt", b"one", 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Dup/x.txt", b"two!", 1_700_000_100).unwrap();
    h.sign_in();
    let dup = h.child(&h.cloud(), "Dup").unwrap()["handle"].as_str().unwrap().to_string();
    assert_eq!(h.child(&dup, "x.txt").unwrap()["duplicate"], true);
    h.ok("resolve_duplicates", json!({"handle": dup, "mode": "rename"}));
    let names: Vec<String> = h.ok("list_folder", json!({"handle": dup}))["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"x.txt".into()) && names.contains(&"x (1).txt".into()), "{names:?}");
}
