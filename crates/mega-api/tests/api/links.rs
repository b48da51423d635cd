//! Public links: export and removal, opening file links (plain and #P!), folder links (listing,
//! download, events), imports; incoming shares.

use mega_api::{protect_link, resolve_link, ErrorKind, LinkKind};
use mega_testserver::Version;

use crate::support::{client, logged_in, EMAIL};

#[tokio::test]
async fn file_links_export_open_protect_import_and_go_away() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    let f = a.upload_bytes(&mut t, root, "shared.txt", b"public words", 1_600_000_000).await.unwrap();
    let link = a.export(&mut t, f).await.unwrap();
    assert_eq!(link.kind, LinkKind::File);
    assert_eq!(t.public_handle(f), Some(link.handle));
    assert_eq!(a.export(&mut t, f).await.unwrap().handle, link.handle, "exporting again keeps the handle");
    let url = link.to_url();
    assert!(!link.url_without_key().contains(&link.key_b64().unwrap()));

    // Anyone opens it: metadata checked against the key, then the content.
    let anon = client(server.url());
    let opened = resolve_link(&url, None).await.unwrap();
    let file = anon.open_file_link(&opened).await.unwrap();
    assert_eq!((file.name.as_str(), file.size), ("shared.txt", 12));
    let dl = anon.public_download_url(file.handle).await.unwrap();
    assert_eq!(anon.download_all(&dl, file.key()).await.unwrap(), b"public words");
    // Link and key sent apart.
    let bare = resolve_link(&link.url_without_key(), None).await.unwrap();
    assert!(bare.key.is_none());
    let joined = bare.with_key(&link.key_b64().unwrap()).unwrap();
    assert_eq!(anon.open_file_link(&joined).await.unwrap().name, "shared.txt");
    // A wrong key is a crypto error.
    let wrong = bare.with_key(&"B".repeat(43)).unwrap();
    assert_eq!(anon.open_file_link(&wrong).await.unwrap_err().kind(), ErrorKind::Crypto);

    // Password-protected.
    let protected = protect_link(&link, "hunter2").await.unwrap();
    assert!(protected.contains("#P!"));
    assert_eq!(resolve_link(&protected, Some("hunter2")).await.unwrap().to_url(), url);
    assert_eq!(resolve_link(&protected, Some("nope")).await.unwrap_err().kind(), ErrorKind::Crypto);
    assert_eq!(resolve_link(&protected, None).await.unwrap_err().kind(), ErrorKind::BadInput);

    // Another account imports it.
    server.add_user("bob@example.com", "pw", Version::V2).unwrap();
    let b = anon.login("bob@example.com", "pw").await.unwrap().session().unwrap();
    let mut tb = b.fetch_tree().await.unwrap();
    let broot = tb.root().unwrap();
    let imported = b.import_file(&mut tb, &file, broot, Some("mine.txt")).await.unwrap();
    assert_eq!(tb.path(imported).as_deref(), Some("/mine.txt"));
    assert_eq!(b.download_bytes(&tb, imported).await.unwrap(), b"public words");

    // Removed: the link no longer opens.
    a.unexport(&mut t, f).await.unwrap();
    assert_eq!(t.public_handle(f), None);
    assert_eq!(anon.open_file_link(&opened).await.unwrap_err().kind(), ErrorKind::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn folder_links_list_download_follow_events_and_import() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let docs = a.mkdir_p(&mut t, "/docs/sub").await.unwrap();
    let top = t.resolve("/docs").unwrap();
    let f = a.upload_bytes(&mut t, docs, "deep.txt", b"deep", 3).await.unwrap();
    let link = a.export(&mut t, top).await.unwrap();
    assert_eq!(link.kind, LinkKind::Folder);

    let anon = client(server.url());
    let folder = anon.open_folder_link(&resolve_link(&link.to_url(), None).await.unwrap()).unwrap();
    let mut ft = folder.fetch_tree().await.unwrap();
    assert_eq!(ft.root(), Some(top));
    assert_eq!(ft.len(), 3);
    assert!(ft.nodes().all(|n| n.is_decrypted()));
    assert_eq!(ft.path(f).as_deref(), Some("/sub/deep.txt"));
    let key = ft.get(f).unwrap().file_key().unwrap();
    let url = folder.download_url(f).await.unwrap();
    assert_eq!(anon.download_all(&url, &key).await.unwrap(), b"deep");

    // A file added below the exported folder gets its key wrapped for the share (`cr`), so the
    // link's visitors can open it, live through the folder link's events.
    let late = a.upload_bytes(&mut t, top, "late.txt", b"late", 4).await.unwrap();
    let mut events = folder.events(&ft);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while ft.get(late).is_none() {
        let batch = tokio::time::timeout_at(deadline, events.next()).await.expect("folder-link event").unwrap();
        ft.apply_batch(&batch);
    }
    assert_eq!(ft.get(late).unwrap().name(), "late.txt");
    assert_eq!(folder.fetch_tree().await.unwrap().resolve("/late.txt"), Some(late));

    // Another account imports the whole folder from the link.
    server.add_user("bob@example.com", "pw", Version::V2).unwrap();
    let b = anon.login("bob@example.com", "pw").await.unwrap().session().unwrap();
    let mut tb = b.fetch_tree().await.unwrap();
    let broot = tb.root().unwrap();
    let ft = folder.fetch_tree().await.unwrap();
    let copy = b.import_from_folder(&mut tb, &folder, &ft, top, broot).await.unwrap();
    assert_eq!(tb.path(copy).as_deref(), Some("/docs"));
    let deep = tb.resolve("/docs/sub/deep.txt").unwrap();
    assert_eq!(b.download_bytes(&tb, deep).await.unwrap(), b"deep");

    // Un-exported: the link is gone.
    a.unexport(&mut t, top).await.unwrap();
    assert_eq!(folder.fetch_tree().await.unwrap_err().kind(), ErrorKind::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn incoming_shares_are_decrypted_with_their_share_key() {
    let (server, a) = logged_in().await;
    server.add_user("bob@example.com", "pw", Version::V1).unwrap();
    server.seed_bytes("bob@example.com", "/team/plan.txt", b"the plan", 9).unwrap();
    server.share_folder("bob@example.com", "/team", EMAIL, 0).unwrap();
    let t = a.fetch_tree().await.unwrap();
    assert_eq!(t.incoming_shares().len(), 1);
    let share = t.incoming_shares()[0];
    assert_eq!(t.get(share).unwrap().name(), "team");
    let plan = t.resolve("//shares/team/plan.txt").unwrap();
    assert_eq!(t.path(plan).as_deref(), Some("//shares/team/plan.txt"));
    assert!(t.nodes().all(|n| n.is_decrypted()));
    server.stop().await;
}

#[tokio::test]
async fn many_file_links_open_in_shared_requests_through_congestion() {
    use futures_util::StreamExt;
    let (server, _session) = logged_in().await;
    server.seed_bulk(EMAIL, 2, 75).unwrap();
    let path = |n: usize| format!("/bulk/dir-{:05}/file-{n:07}.bin", n / 75);
    let mut links = Vec::new();
    for n in 0..150 {
        let url = server.file_link(EMAIL, server.find(EMAIL, &path(n)).unwrap()).unwrap();
        links.push(resolve_link(&url, None).await.unwrap());
    }
    // Two that fail alone: a handle nobody has, and a folder link's key on a file link's place.
    links[10].handle = mega_api::NodeHandle([7; 6]);
    links[20].key = Some(mega_api::NodeKey::Folder(mega_proto::Key128::new([1; 16])));
    // Half the requests answered -3: each is sent again with the same id after a backoff.
    server.set_faults("eagain=0.5".parse().unwrap());
    let anon = client(server.url());
    let before = server.command_stats("g");
    let opened: Vec<_> = anon.open_file_links(&links).collect().await;
    server.set_faults(Default::default());
    let after = server.command_stats("g");
    assert_eq!(opened.len(), 150);
    for (n, r) in opened.iter().enumerate() {
        match n {
            10 => assert_eq!(r.as_ref().unwrap_err().kind(), ErrorKind::NotFound),
            20 => assert_eq!(r.as_ref().unwrap_err().kind(), ErrorKind::BadInput),
            _ => assert_eq!(r.as_ref().unwrap().name, format!("file-{n:07}.bin")),
        }
    }
    // 149 `g` (the one without a file key is not sent) in requests of up to 64; congestion
    // answers come before a request is counted, or replay it.
    assert_eq!(after.largest, mega_api::FILE_LINKS_PER_REQUEST as u64);
    assert!(after.requests - before.requests <= 3, "{:?} {:?}", before, after);
    let sizes: Vec<_> = anon.file_link_sizes(&[links[0].handle, links[10].handle]).collect().await;
    assert_eq!(sizes[0].as_ref().unwrap(), &23);
    assert_eq!(sizes[1].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
}
