//! The demo drive (about 290 files, duplicates, links, a rubbish bin with `rr`, an incoming
//! share): listing, search, duplicate handling, links and restore on realistic data. Seeding
//! it takes a few seconds, so it is one test.

use mega_testserver::{demo, TestServer};

use crate::support::Cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_drive() {
    let server = TestServer::start().await.unwrap();
    let links = server.seed_demo().unwrap();
    let cli = Cli::new(server.url());
    cli.login(demo::EMAIL, demo::PASSWORD).await.ok();

    // ls -R and find.
    let all = cli.run(&["--json", "ls", "-R", "/Documents"]).await.json();
    let paths: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"/Documents/Work/Reports 2025/Q1 report.pdf"), "{paths:?}");
    assert!(paths.contains(&"/Documents/Personal/CV.pdf"));
    let invoices = cli.run(&["find", "invoice-*.pdf", "--in", "/Documents/Work/Invoices"]).await;
    assert!(invoices.ok().lines().len() > 1);
    assert!(invoices.lines().iter().all(|l| l.starts_with("/Documents/Work/Invoices/invoice-")));
    let long = cli.run(&["ls", "-l", "/Documents/Personal"]).await;
    assert!(long.ok().stdout.contains("CV.pdf") && long.stdout.contains("KiB"), "{}", long.stdout);

    // The incoming share.
    let share = format!("//shares/{}", demo::SHARED_FOLDER);
    assert!(cli.run(&["ls", &share]).await.ok().lines().contains(&"itinerary.md"));

    // Duplicates: ambiguous until deduplicated (newest report kept, Notes merged).
    cli.run(&["ls", "/Documents/report.pdf"]).await.fails(4, "2 nodes have this name");
    cli.run(&["ls", "/Documents/Notes"]).await.fails(4, "2 nodes have this name");
    let done = cli.run(&["--json", "dedupe", "/Documents", "--mode", "newest"]).await.json();
    assert_eq!(done.as_array().unwrap().len(), 2, "{done}");
    cli.run(&["ls", "/Documents/report.pdf"]).await.ok();
    cli.run(&["lsd", "/Documents/Notes"]).await.ok();

    // Links of the demo: a folder link, a file link, a #P! link.
    let folder = cli.run(&["ls", &links.folder_link]).await;
    assert!(folder.ok().lines().contains(&"Winter/"), "{}", folder.stdout);
    let file = cli.run(&["--json", "ls", &links.file_link]).await.json();
    assert_eq!(file[0]["name"], "weather-archive.bin");
    cli.run(&["ls", &links.protected_link]).await.fails(6, "password-protected");
    cli.run(&["ls", &links.protected_link, "--link-password", "nope"]).await.fails(6, "wrong password");
    let plain = cli.run(&["link", "decrypt", &links.protected_link, "--password", demo::LINK_PASSWORD]).await;
    let cv = cli.run(&["ls", plain.ok().stdout.trim()]).await;
    assert_eq!(cv.ok().lines(), ["CV.pdf"]);

    // Restore from the rubbish bin to where the items were deleted from. (The duplicates
    // dedupe removed are there too.)
    let bin = cli.run(&["ls", "//bin"]).await;
    assert_eq!(bin.ok().lines(), ["Notes/", "Old screenshots/", "old-draft.md", "report.pdf", "temp-export.csv"]);
    let back = cli.run(&["restore", "old-draft.md", "//bin/Old screenshots"]).await;
    assert_eq!(back.ok().lines(), ["/Documents/old-draft.md", "/Photos/Old screenshots"]);
    cli.run(&["restore", "not-there"]).await.fails(3, "//bin/not-there");
    server.stop().await;
}
