//! An account used from today's official apps (issue 16): its folder link and the folder a
//! friend shares with it have dummy `ok`/`ha`, their keys only in `^!keys`. The app lists both,
//! downloads from both, and re-exports the folder with the link made there (never a new key).

use serde_json::json;
use test_support::Version;

use crate::support::{Harness, EMAIL};
use crate::transfers::finished;

const FRIEND: &str = "friend@example.com";

#[test]
fn the_app_opens_lists_downloads_and_re_exports_what_the_official_apps_shared() {
    let h = Harness::new();
    h.server.set_official_apps(true);
    h.server.seed_bytes(EMAIL, "/Pics/a.txt", b"pictures", 1).unwrap();
    let made_there = h.server.folder_link(EMAIL, "/Pics").unwrap();
    h.server.add_user(FRIEND, "friend pw", Version::V2).unwrap();
    h.server.seed_bytes(FRIEND, "/Ski/plan.txt", b"the plan", 2).unwrap();
    h.server.share_folder(FRIEND, "/Ski", EMAIL, 0).unwrap();
    h.sign_in();

    // The incoming share opens with the key in ^!keys: listed by name, downloaded verified.
    let roots = h.ok("roots", json!({}));
    let share = roots["shares"].as_array().unwrap().iter().find(|s| s["name"] == "Ski").cloned();
    let share = share.unwrap_or_else(|| panic!("the share is listed by its name: {roots}"));
    let plan = h.child(share["handle"].as_str().unwrap(), "plan.txt").expect("the share's file, named");
    let pics = h.child(&h.cloud(), "Pics").unwrap();
    let a = h.child(pics["handle"].as_str().unwrap(), "a.txt").unwrap();
    for (file, want) in [(&plan, &b"the plan"[..]), (&a, &b"pictures"[..])] {
        let ids = h.ok("download", json!({"handles": [file["handle"]]}));
        let job = finished(&h, ids[0].as_str().unwrap());
        assert_eq!(job["state"], "done", "{job}");
        assert_eq!(std::fs::read(job["path"].as_str().unwrap()).unwrap(), want);
    }

    // The folder exported there: "Shared by me" shows the very link, with its key, and
    // getting its link again sends no `s2` (the share is never re-keyed).
    let shared = h.ok("links_shared", json!({}));
    let row = shared.as_array().unwrap().iter().find(|s| s["kind"] == "folder").cloned().expect("the folder link");
    assert_eq!(row["link"].as_str(), Some(made_there.as_str()), "{row}");
    let s2 = h.server.command_stats("s2").commands;
    let again = h.ok("get_link", json!({"handle": pics["handle"]}));
    assert_eq!(again["link"].as_str(), Some(made_there.as_str()));
    assert_eq!(h.server.command_stats("s2").commands, s2, "no s2 for a folder shared already");
    let checks = h.ok("links_check", json!({"text": made_there}));
    assert_eq!(checks[0]["status"], "alive", "{checks}");

    // A folder the app exports itself opens from its link too.
    let fresh = h.ok("mkdir", json!({"parent": h.cloud(), "name": "fresh"}));
    let link = h.ok("get_link", json!({"handle": fresh["handle"]}));
    let opened = h.ok("folder_link_open", json!({"link": link["link"]}));
    assert_eq!(opened["root"]["name"], "fresh", "{opened}");
}
