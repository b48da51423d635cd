//! The conformance suite (one scenario, every backend): each scenario runs against
//! mega-testserver on every run, and against the real service only when
//! `MEGA_TEST_USER`/`MEGA_TEST_PASSWORD` are set.

use std::future::Future;

use serde_json::Value;

use crate::support::{unique, Backend};

/// Runs a scenario on the test server, then on the real service if configured.
async fn on_every_backend<F, Fut>(scenario: F)
where
    F: Fn(Backend) -> Fut,
    Fut: Future<Output = Backend>,
{
    scenario(Backend::test_server().await).await.stop().await;
    match Backend::real() {
        Some(real) => scenario(real).await.stop().await,
        None => eprintln!("real service: skipped (MEGA_TEST_USER/MEGA_TEST_PASSWORD not set)"),
    }
}

/// Log in once; later commands reuse the stored session; logout ends it.
async fn session_resume(b: Backend) -> Backend {
    let cli = b.cli();
    cli.run(&["whoami"]).await.fails(7, "not logged in");
    let login = cli.login(&b.email, &b.password).await;
    login.ok();
    assert!(login.stdout.is_empty(), "login prints no data in text mode: {}", login.stdout);
    assert!(!login.stderr.contains(&b.password), "{}: the password was echoed", b.name);
    // Two later commands, each a new process: the stored session is used.
    let who = cli.run(&["whoami"]).await;
    assert_eq!(who.ok().stdout.trim(), b.email.to_lowercase(), "{}", b.name);
    let q = cli.run(&["--json", "quota"]).await.json();
    assert!(q["storage_max"].as_u64().unwrap() > 0, "{}: {q}", b.name);
    assert!(q["storage_used"].is_u64());
    let text = cli.run(&["quota"]).await;
    assert!(text.ok().stdout.contains("storage:") && text.stdout.contains("iB"), "{}", text.stdout);
    cli.run(&["logout"]).await.ok();
    cli.run(&["whoami"]).await.fails(7, "not logged in");
    cli.run(&["logout"]).await.fails(7, "not logged in");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_once_and_resume() {
    on_every_backend(session_resume).await;
}

/// mkdir, ls, mv, cp, rm, restore in a folder of its own, and bad paths changing nothing.
async fn drive_operations(b: Backend) -> Backend {
    let cli = b.cli();
    cli.login(&b.email, &b.password).await.ok();
    let top = format!("/{}", unique("cli-ops"));
    cli.run(&["mkdir", "-p", &format!("{top}/a/b")]).await.ok();
    cli.run(&["mkdir", &format!("{top}/c")]).await.ok();
    cli.run(&["mkdir", &format!("{top}/c")]).await.fails(1, "already exists");
    cli.run(&["mkdir", &format!("{top}/nope/x")]).await.fails(3, "nope");
    let ls = cli.run(&["ls", &top]).await;
    assert_eq!(ls.ok().lines(), ["a/", "c/"]);
    // mv into a folder, then to a new name.
    cli.run(&["mv", &format!("{top}/a/b"), &format!("{top}/c")]).await.ok();
    cli.run(&["mv", &format!("{top}/c/b"), &format!("{top}/a/renamed")]).await.ok();
    let all = cli.run(&["--json", "ls", "-R", &top]).await.json();
    let paths: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, [format!("{top}/a"), format!("{top}/a/renamed"), format!("{top}/c")]);
    assert!(all.as_array().unwrap().iter().all(|e| e["type"] == "folder"));
    // cp on the server. The copy's name is unique: on the real service, the rubbish bin keeps
    // what earlier runs left there, and a shared name there would be ambiguous.
    let copy = unique("a-copy");
    cli.run(&["cp", &format!("{top}/a"), &format!("{top}/{copy}")]).await.ok();
    let tree = cli.run(&["tree", &top]).await;
    assert!(tree.ok().stdout.contains(format!("{copy}/").as_str()) && tree.stdout.contains("└── "), "{}", tree.stdout);
    // rm with one bad path changes nothing.
    cli.run(&["rm", &format!("{top}/{copy}"), &format!("{top}/missing")]).await.fails(3, "missing");
    assert!(cli.run(&["ls", &format!("{top}/{copy}")]).await.code == 0);
    // rm to the rubbish bin, restore back to where it was.
    let rm = cli.run(&["--json", "rm", &format!("{top}/{copy}")]).await.json();
    assert_eq!(rm[0]["permanent"], Value::Bool(false));
    cli.run(&["ls", &format!("{top}/{copy}")]).await.fails(3, &copy);
    let bin = cli.run(&["ls", "//bin"]).await;
    assert!(bin.ok().lines().contains(&format!("{copy}/").as_str()), "{}", bin.stdout);
    let restored = cli.run(&["restore", &copy]).await;
    assert_eq!(restored.ok().stdout.trim(), format!("{top}/{copy}"));
    cli.run(&["lsd", &top]).await.ok();
    // Clean up for good.
    cli.run(&["rm", "--permanent", &top]).await.ok();
    cli.run(&["ls", &top]).await.fails(3, "no such file or folder");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_operations_on_every_backend() {
    on_every_backend(drive_operations).await;
}

/// File and folder links: plain, key apart, #P!, keyless, removed; ls and import of links.
async fn links(b: Backend) -> Backend {
    let session = b.session().await;
    let mut tree = session.fetch_tree().await.unwrap();
    let top = format!("/{}", unique("cli-links"));
    let dir = session.mkdir_p(&mut tree, &format!("{top}/shared")).await.unwrap();
    session.upload_bytes(&mut tree, dir, "one.txt", b"first file", 1_700_000_000).await.unwrap();
    session.upload_bytes(&mut tree, dir, "two.txt", b"second", 1_700_000_001).await.unwrap();
    let cli = b.cli();
    cli.login(&b.email, &b.password).await.ok();
    let file = format!("{top}/shared/one.txt");

    let link = cli.run(&["link", &file]).await;
    let url = link.ok().stdout.trim().to_string();
    assert!(url.starts_with("https://mega.nz/file/") && url.contains('#'), "{url}");
    let listed = cli.run(&["--json", "ls", &url]).await.json();
    assert_eq!((listed[0]["name"].as_str(), listed[0]["size"].as_u64()), (Some("one.txt"), Some(10)));

    // The key apart: two lines; the first alone is a link without its key.
    let apart = cli.run(&["link", &file, "--no-key"]).await;
    let lines = apart.ok().lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(format!("{}#{}", lines[0], lines[1]), url);
    cli.run(&["ls", lines[0]]).await.fails(6, "no key");
    cli.run(&["ls", lines[0], "--link-key", lines[1]]).await.ok();

    // #P!: decrypted offline back to the plain link; a wrong password is exit 6.
    let protected = cli.run(&["link", &file, "--password", "pw"]).await;
    let p = protected.ok().stdout.trim().to_string();
    assert!(p.contains("#P!"), "{p}");
    let plain = cli.run(&["link", "decrypt", &p, "--password", "pw"]).await;
    assert_eq!(plain.ok().stdout.trim(), url);
    cli.run(&["link", "decrypt", &p, "--password", "wrong"]).await.fails(6, "wrong password");
    cli.run(&["ls", &p]).await.fails(6, "password-protected");
    cli.run(&["ls", &p, "--link-password", "pw"]).await.ok();

    // A folder link lists like a folder; import copies it into the drive.
    let folder = cli.run(&["link", &format!("{top}/shared")]).await.ok().stdout.trim().to_string();
    assert!(folder.starts_with("https://mega.nz/folder/"), "{folder}");
    assert_eq!(cli.run(&["ls", &folder]).await.ok().lines(), ["one.txt", "two.txt"]);
    cli.run(&["mkdir", &format!("{top}/in")]).await.ok();
    let imported = cli.run(&["import", &folder, &format!("{top}/in")]).await;
    assert_eq!(imported.ok().stdout.trim(), format!("{top}/in/shared"));
    cli.run(&["import", &url, &format!("{top}/in")]).await.ok();
    let inside = cli.run(&["ls", "-R", &format!("{top}/in")]).await;
    assert_eq!(inside.ok().lines(), ["shared/", "shared/one.txt", "shared/two.txt", "one.txt"]);

    // links export: one link per line, each opening its file.
    let many = cli.run(&["links", "export", &format!("{top}/in")]).await;
    let exported = many.ok().lines();
    assert_eq!(exported.len(), 3, "{}", many.stdout);
    for l in &exported {
        assert!(l.starts_with("https://mega.nz/file/"), "{l}");
    }
    cli.run(&["ls", exported[0]]).await.ok();

    // Removed: exit 6; malformed: exit 6.
    cli.run(&["link", "--delete", &file]).await.ok();
    cli.run(&["ls", &url]).await.fails(6, "removed");
    cli.run(&["ls", "https://mega.nz/file/short#x"]).await.fails(6, "malformed");
    cli.run(&["rm", "--permanent", &top]).await.ok();
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_on_every_backend() {
    on_every_backend(links).await;
}
