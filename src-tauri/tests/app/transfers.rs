//! Downloads and uploads through the engine, seen through the job table the UI subscribes to.

use serde_json::{json, Value};

use crate::support::{content, wait_for, Harness, EMAIL};

/// The job with this id, once it reached a final state.
pub(crate) fn finished(h: &Harness, id: &str) -> Value {
    wait_for(60, "the transfer to finish", || {
        let jobs = h.ok("transfers_subscribe", json!({"onEvent": "__CHANNEL__:1"}));
        jobs.as_array()?
            .iter()
            .find(|j| j["id"] == id && ["done", "failed", "cancelled"].contains(&j["state"].as_str().unwrap_or("")))
            .cloned()
    })
}

#[test]
fn a_download_is_verified_and_lands_in_the_download_folder() {
    let h = Harness::new();
    let data = content(3 << 20, 5);
    h.server.seed_bytes(EMAIL, "/Big/data.bin", &data, 1_700_000_000).unwrap();
    h.sign_in();
    let big = h.child(&h.cloud(), "Big").unwrap();
    let file = h.child(big["handle"].as_str().unwrap(), "data.bin").unwrap();
    let ids = h.ok("download", json!({"handles": [file["handle"]]}));
    let id = ids[0].as_str().unwrap();
    let job = finished(&h, id);
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!((job["direction"].as_str(), job["done"].as_u64()), (Some("download"), Some(data.len() as u64)));
    let path = h.downloads().join("data.bin");
    assert_eq!(job["path"].as_str(), Some(path.to_str().unwrap()));
    assert!(std::fs::read(&path).unwrap() == data, "the bytes on disk are the bytes seeded");

    assert_eq!(h.err_kind("download", json!({"handles": [file["handle"]], "dest": "relative/dir"})), "invalid");
    assert_eq!(h.err_kind("transfer_control", json!({"id": "no-such-job", "action": "pause"})), "notFound");
    h.ok("transfers_clear_finished", json!({}));
    let left = h.ok("transfers_subscribe", json!({"onEvent": "__CHANNEL__:2"}));
    assert!(left.as_array().unwrap().iter().all(|j| j["id"] != id), "cleared");
}

#[test]
fn an_upload_reaches_the_server_and_downloads_back_identical() {
    let h = Harness::new();
    h.sign_in();
    let cloud = h.cloud();
    let local = h.dir.path().join("up");
    std::fs::create_dir_all(local.join("inner")).unwrap();
    let (a, b) = (content(1_500_000, 1), content(10_000, 2));
    std::fs::write(local.join("a.bin"), &a).unwrap();
    std::fs::write(local.join("inner").join("b.bin"), &b).unwrap();
    let missing = json!({"paths": [h.dir.path().join("nope").to_string_lossy()], "parent": cloud});
    assert_eq!(h.err_kind("upload", missing), "notFound");
    let ids = h.ok("upload", json!({"paths": [local.to_string_lossy()], "parent": cloud}));
    assert_eq!(ids.as_array().unwrap().len(), 2, "a folder: every file in it");
    for id in ids.as_array().unwrap() {
        assert_eq!(finished(&h, id.as_str().unwrap())["state"], "done");
    }
    let up = wait_for(10, "the folder in the listing", || h.child(&cloud, "up"));
    let uploaded = h.child(up["handle"].as_str().unwrap(), "a.bin").unwrap();
    assert_eq!(uploaded["size"].as_u64(), Some(a.len() as u64));
    let back = h.dir.path().join("back");
    let ids = h.ok("download", json!({"handles": [uploaded["handle"]], "dest": back.to_string_lossy()}));
    assert_eq!(finished(&h, ids[0].as_str().unwrap())["state"], "done");
    assert!(std::fs::read(back.join("a.bin")).unwrap() == a);
}

#[test]
fn settings_are_validated_saved_and_applied() {
    let h = Harness::new();
    let mut s = h.ok("settings_get", json!({}));
    s["downloadLimit"] = json!(500_000);
    s["schedule"] = json!([{"from": "22:00", "to": "06:00", "downloadLimit": null, "uploadLimit": null}]);
    h.ok("settings_set", json!({ "settings": s }));
    let mut bad = s.clone();
    bad["connections"] = json!(0);
    assert_eq!(h.err_kind("settings_set", json!({ "settings": bad })), "invalid");
    assert_eq!(h.ok("settings_get", json!({})), s, "the bad value changed nothing");
    assert_eq!(h.reopen().ok("settings_get", json!({})), s, "kept across a restart");
}
