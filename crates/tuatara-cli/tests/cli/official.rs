//! An account used from today's official apps (issue 16): the folder it exported and the folder
//! a friend shares with it have dummy `ok`/`ha`, their keys only in `^!keys`. The CLI lists and
//! downloads both, prints the link made there for the exported folder (no `s2`, no new key),
//! and a folder it exports itself opens in megajs and async-mega-py as well as in the CLI.

use mega_testserver::support::server;
use mega_testserver::Version;

use crate::peers::{megajs, megajs_dir, PyPeer};
use crate::support::{Cli, EMAIL, PASSWORD};

const FRIEND: &str = "friend@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_downloads_and_re_exports_what_the_official_apps_shared() {
    let server =
        server().account(EMAIL, PASSWORD, Version::V2).account(FRIEND, "pw", Version::V2).official_apps().start().await;
    server.seed_bytes(EMAIL, "/Pics/a.txt", b"pictures", 1).unwrap();
    let made_there = server.folder_link(EMAIL, "/Pics").unwrap();
    server.seed_bytes(FRIEND, "/Ski/plan.txt", b"the plan", 2).unwrap();
    server.share_folder(FRIEND, "/Ski", EMAIL, 0).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();

    // Listed with their names, downloaded verified.
    assert_eq!(cli.run(&["ls", "//shares"]).await.ok().lines(), ["Ski/"]);
    assert_eq!(cli.run(&["ls", "//shares/Ski"]).await.ok().lines(), ["plan.txt"]);
    cli.run(&["get", "//shares/Ski/plan.txt", "/Pics", &p("down")]).await.ok();
    assert_eq!(std::fs::read(tmp.path().join("down/plan.txt")).unwrap(), b"the plan");
    assert_eq!(std::fs::read(tmp.path().join("down/Pics/a.txt")).unwrap(), b"pictures");

    // The folder exported there: its link is the one made there, and nothing is re-keyed.
    let s2 = server.command_stats("s2").commands;
    let link = cli.run(&["link", "/Pics"]).await;
    assert_eq!(link.ok().stdout.trim(), made_there);
    assert_eq!(server.command_stats("s2").commands, s2, "no s2 for a folder shared already");
    let opened = cli.run(&["ls", &made_there]).await;
    assert_eq!(opened.ok().lines(), ["a.txt"]);

    // A folder exported here: its key goes into ^!keys (mega-api's tests read it back), and
    // the link opens in the CLI and in the third-party clients, which know nothing of ^!keys.
    std::fs::create_dir_all(tmp.path().join("fresh")).unwrap();
    std::fs::write(tmp.path().join("fresh/new.txt"), b"made by tuatara").unwrap();
    cli.run(&["put", &p("fresh"), "/"]).await.ok();
    let fresh = cli.run(&["link", "/fresh"]).await;
    let fresh = fresh.ok().stdout.trim().to_string();
    assert_eq!(cli.run(&["ls", &fresh]).await.ok().lines(), ["new.txt"]);
    if let Some(dir) = megajs_dir() {
        assert_eq!(megajs(&dir, server.url(), &["link-ls", &fresh]).await.trim(), "new.txt");
        megajs(&dir, server.url(), &["link-get", &fresh, "new.txt", &p("via-megajs.txt")]).await;
        assert_eq!(std::fs::read(tmp.path().join("via-megajs.txt")).unwrap(), b"made by tuatara");
    }
    if let Some(peer) = PyPeer::async_mega() {
        peer.run(server.url(), &["link-get", &fresh, &p("via-py")]).await;
        assert_eq!(std::fs::read(tmp.path().join("via-py/fresh/new.txt")).unwrap(), b"made by tuatara");
    }
    server.stop().await;
}
