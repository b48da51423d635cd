//! The node cache in the app (issue 17): a restart reads the drive from the cache (no `f`), the
//! cache kept current by the event follower while the app ran; logging out deletes it.

use serde_json::json;

use crate::support::{wait_for, Harness, EMAIL, PASSWORD};

fn cache_files(h: &Harness) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(h.dir.path().join("data/node-cache")) {
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn names(listing: &serde_json::Value) -> Vec<String> {
    listing["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_restart_reads_the_drive_from_the_cache_the_running_app_kept_current() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/Docs/before.txt", b"before", 1_700_000_000).unwrap();
    let step = h.ok("login", json!({"email": EMAIL, "password": PASSWORD, "remember": true, "apiUrl": h.server.url()}));
    assert_eq!(step["account"]["remembered"], true);
    assert!(cache_files(&h).iter().any(|p| p.extension().is_some_and(|e| e == "sqlite")), "{:?}", cache_files(&h));

    // Made by another client while the app runs: it comes on the event channel and is
    // written.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let other = test_support::session(&test_support::client(h.server.url()), EMAIL, PASSWORD).await;
        let mut tree = other.fetch_tree().await.unwrap();
        let root = tree.root().unwrap();
        other.upload_bytes(&mut tree, root, "while-running.txt", b"later", 1).await.unwrap();
    });
    let cloud = h.cloud();
    wait_for(10, "the new file in the drive", || h.child(&cloud, "while-running.txt").map(|_| ()));
    let fetches = h.server.command_stats("f").commands;

    let again = h.reopen();
    assert_eq!(again.ok("session_restore", json!({}))["email"], EMAIL);
    let cloud = again.ok("roots", json!({}))["cloud"]["handle"].as_str().unwrap().to_string();
    let top = names(&again.ok("list_folder", json!({ "handle": cloud })));
    assert!(top.contains(&"while-running.txt".to_string()) && top.contains(&"Docs".to_string()), "{top:?}");
    let docs = again.ok("list_folder", json!({ "handle": cloud }))["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Docs")
        .unwrap()["handle"]
        .clone();
    assert_eq!(names(&again.ok("list_folder", json!({ "handle": docs }))), vec!["before.txt".to_string()]);
    assert_eq!(h.server.command_stats("f").commands, fetches, "the restart read the cache, it fetched nothing");

    again.ok("logout", json!({}));
    assert!(
        !cache_files(&h).iter().any(|p| p.extension().is_some_and(|e| e == "sqlite")),
        "logging out deletes the cache: {:?}",
        cache_files(&h)
    );
}
