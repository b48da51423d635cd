//! The tree: fetch and decrypt, paths, children, duplicates, search; node operations observed
//! in the tree and through a second session's event stream.

use mega_api::{ActionPacket, Change, ErrorKind, EventBatch, NodeKind};
use mega_proto::NodeHandle;

use crate::support::{client, logged_in, sync_until, EMAIL, PASSWORD};

#[tokio::test]
async fn fetched_tree_has_roots_paths_children_and_duplicates() {
    let (server, session) = logged_in().await;
    server.seed_bytes(EMAIL, "/Photos/2024/a.jpg", b"aaa", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/Photos/2024/b.jpg", b"bb", 1_700_000_001).unwrap();
    server.seed_bytes(EMAIL, "/Photos/2024/a.jpg", b"other a", 1_700_000_002).unwrap();
    server.seed_bytes(EMAIL, "/notes.txt", b"n", 5).unwrap();
    let tree = session.fetch_tree().await.unwrap();
    assert_eq!(tree.len(), 3 + 2 + 4);
    let roots = tree.roots();
    assert_eq!(tree.get(roots.cloud.unwrap()).unwrap().kind(), NodeKind::Root);
    assert_eq!(tree.get(roots.rubbish.unwrap()).unwrap().kind(), NodeKind::Rubbish);
    assert_eq!(tree.get(roots.inbox.unwrap()).unwrap().kind(), NodeKind::Inbox);
    assert!(tree.nodes().all(|n| n.is_decrypted()));
    assert!(!tree.sn().is_empty());

    let year = tree.resolve("/Photos/2024").unwrap();
    assert_eq!(tree.path(year).as_deref(), Some("/Photos/2024"));
    assert_eq!(tree.path(tree.root().unwrap()).as_deref(), Some("/"));
    let mut names: Vec<&str> = tree.children(year).map(|n| n.name()).collect();
    names.sort();
    assert_eq!(names, ["a.jpg", "a.jpg", "b.jpg"]);
    let dups = tree.duplicates(year);
    assert_eq!(dups.len(), 1);
    assert_eq!((dups[0].0.as_str(), dups[0].1.len()), ("a.jpg", 2));
    assert_eq!(tree.all_duplicates().len(), 1);
    assert_eq!(tree.children_named(year, "a.jpg").count(), 2);
    let b = tree.resolve("/Photos/2024/b.jpg").unwrap();
    let b = tree.get(b).unwrap();
    assert_eq!((b.size(), b.mtime()), (2, Some(1_700_000_001)));
    assert_eq!(b.fingerprint().unwrap().crc[..2], *b"bb");
    assert_eq!(tree.find("*.jpg").len(), 3);
    assert_eq!(tree.find_in(tree.resolve("/Photos").unwrap(), "?.jpg").len(), 3);
    assert!(tree.resolve("/Photos/nope").is_none());
    assert_eq!(session.download_bytes(&tree, b.handle()).await.unwrap(), b"bb");
    server.stop().await;
}

#[tokio::test]
async fn operations_change_the_tree_and_reach_another_session() {
    let (server, a) = logged_in().await;
    let b = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut ta = a.fetch_tree().await.unwrap();
    let mut tb = b.fetch_tree().await.unwrap();

    // mkdir -p creates the missing levels in one go, and is idempotent.
    let deep = a.mkdir_p(&mut ta, "/work/2024/q1").await.unwrap();
    assert_eq!(ta.path(deep).as_deref(), Some("/work/2024/q1"));
    assert_eq!(a.mkdir_p(&mut ta, "/work/2024/q1").await.unwrap(), deep);
    let q2 = a.mkdir_p(&mut ta, "work/2024/q2").await.unwrap();
    assert_eq!(ta.get(q2).unwrap().parent(), ta.get(deep).unwrap().parent());
    sync_until(&b, &mut tb, "the folders", |t| t.resolve("/work/2024/q2").is_some()).await;
    assert_eq!(tb.resolve("/work/2024/q1"), Some(deep));

    // Rename.
    let root = ta.root().unwrap();
    let f = a.upload_bytes(&mut ta, deep, "report.txt", b"quarterly", 1_700_000_000).await.unwrap();
    a.rename(&mut ta, f, "final.txt").await.unwrap();
    assert_eq!(ta.path(f).as_deref(), Some("/work/2024/q1/final.txt"));
    assert_eq!(ta.get(f).unwrap().mtime(), Some(1_700_000_000), "other attributes survive a rename");
    sync_until(&b, &mut tb, "the rename", |t| t.get(f).is_some_and(|n| n.name() == "final.txt")).await;

    // Move, and the circular move refused.
    a.move_node(&mut ta, f, q2).await.unwrap();
    assert_eq!(ta.path(f).as_deref(), Some("/work/2024/q2/final.txt"));
    let work = ta.resolve("/work").unwrap();
    assert_eq!(a.move_node(&mut ta, work, deep).await.unwrap_err().kind(), ErrorKind::Circular);
    let mut events = b.events(&tb);
    let mut moved = false;
    while !moved {
        let batch = events.next().await.unwrap();
        let changes = tb.apply_batch(&batch);
        moved =
            changes.iter().any(|c| matches!(c, Change::Moved { handle, to, .. } if *handle == f && *to == Some(q2)));
        assert!(!changes.contains(&Change::Removed(f)), "a move is not a removal");
    }
    assert_eq!(tb.path(f).as_deref(), Some("/work/2024/q2/final.txt"));

    // Delete to the rubbish bin and restore to where it was.
    a.trash(&mut ta, f).await.unwrap();
    assert_eq!(ta.path(f).as_deref(), Some("//bin/final.txt"));
    assert_eq!(ta.get(f).unwrap().restore_parent(), Some(q2));
    sync_until(&b, &mut tb, "the trash", |t| t.path(f).as_deref() == Some("//bin/final.txt")).await;
    assert_eq!(a.restore(&mut ta, f).await.unwrap(), q2);
    assert_eq!(ta.path(f).as_deref(), Some("/work/2024/q2/final.txt"));
    assert_eq!(ta.get(f).unwrap().restore_parent(), None);
    sync_until(&b, &mut tb, "the restore", |t| {
        t.path(f).as_deref() == Some("/work/2024/q2/final.txt") && t.get(f).unwrap().restore_parent().is_none()
    })
    .await;

    // A folder trashed whose old parent is gone comes back to the root.
    let q1 = deep;
    a.trash(&mut ta, q1).await.unwrap();
    let year = ta.resolve("/work/2024").unwrap();
    a.move_node(&mut ta, q2, root).await.unwrap();
    a.remove(&mut ta, year).await.unwrap();
    assert_eq!(a.restore(&mut ta, q1).await.unwrap(), root);
    assert_eq!(ta.path(q1).as_deref(), Some("/q1"));

    // Permanent delete.
    a.remove(&mut ta, q2).await.unwrap();
    assert!(ta.get(q2).is_none() && ta.get(f).is_none());
    sync_until(&b, &mut tb, "the removal", |t| t.get(q2).is_none() && t.get(f).is_none()).await;
    assert!(tb.get(q1).is_some_and(|n| n.parent() == Some(root)));

    // The trees agree on every node and name.
    let fresh = a.fetch_tree().await.unwrap();
    for t in [&ta, &tb] {
        assert_eq!(t.len(), fresh.len());
        for n in fresh.nodes() {
            assert_eq!(t.path(n.handle()), fresh.path(n.handle()));
        }
    }
    assert_eq!(a.remove(&mut ta, root).await.unwrap_err().kind(), ErrorKind::BadInput);
    server.stop().await;
}

#[tokio::test]
async fn late_echoes_of_our_own_renames_never_undo_a_newer_one() {
    let (server, a) = logged_in().await;
    let b = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut ta = a.fetch_tree().await.unwrap();
    let root = ta.root().unwrap();
    let f = a.upload_bytes(&mut ta, root, "one.txt", b"1", 1_700_000_000).await.unwrap();
    let mut events = a.events(&ta);
    a.rename(&mut ta, f, "two.txt").await.unwrap();
    a.rename(&mut ta, f, "three.txt").await.unwrap();
    // Another client's rename is not ours: it arrives.
    let mut tb = b.fetch_tree().await.unwrap();
    b.rename(&mut tb, f, "four.txt").await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut renames = 0;
    while ta.get(f).unwrap().name() != "four.txt" {
        let batch = tokio::time::timeout_at(deadline, events.next()).await.expect("b's rename").unwrap();
        if let EventBatch::Packets { packets, .. } = &batch {
            renames +=
                packets.iter().filter(|p| matches!(p, ActionPacket::Attributes { handle, .. } if *handle == f)).count();
        }
        ta.apply_batch(&batch);
        let name = ta.get(f).unwrap().name();
        assert!(name == "three.txt" || name == "four.txt", "an older name came back: {name}");
    }
    assert_eq!(renames, 2, "the superseded echo is skipped; the newest one and the other client's rename arrive");
    server.stop().await;
}

/// The echo of a mkdir, an upload or a move is a `t` packet carrying the node as it was then.
/// When it lands after a later own rename, the rename's echo must still follow it, or the
/// older name would stay for good.
#[tokio::test]
async fn a_late_echo_of_a_mkdir_or_move_does_not_keep_an_older_name() {
    let (server, a) = logged_in().await;
    let mut ta = a.fetch_tree().await.unwrap();
    let root = ta.root().unwrap();
    let mut events = a.events(&ta);
    let made = a.mkdir(&mut ta, root, "Projects").await.unwrap();
    a.rename(&mut ta, made, "Work").await.unwrap();
    let f = a.upload_bytes(&mut ta, root, "a.txt", b"a", 1_700_000_000).await.unwrap();
    a.move_node(&mut ta, f, made).await.unwrap();
    a.rename(&mut ta, f, "b.txt").await.unwrap();
    a.rename(&mut ta, f, "c.txt").await.unwrap();
    // Every packet above is on the server now: the poll brings them all, each after the local
    // change it echoes.
    let marker = a.mkdir(&mut ta, root, "marker").await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen.contains(&marker) {
        let batch = tokio::time::timeout_at(deadline, events.next()).await.expect("the echoes").unwrap();
        if let EventBatch::Packets { packets, .. } = &batch {
            for p in packets {
                if let ActionPacket::Nodes(nodes) = p {
                    seen.extend(nodes.iter().filter_map(|n| NodeHandle::from_b64(&n.h).ok()));
                }
            }
        }
        ta.apply_batch(&batch);
    }
    assert_eq!(ta.path(made).as_deref(), Some("/Work"));
    assert_eq!(ta.path(f).as_deref(), Some("/Work/c.txt"));
    let fresh = a.fetch_tree().await.unwrap();
    assert_eq!(fresh.path(f).as_deref(), Some("/Work/c.txt"));
    server.stop().await;
}

#[tokio::test]
async fn server_side_copy_keeps_keys_and_content() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let src = a.mkdir_p(&mut t, "/src/inner").await.unwrap();
    let f = a.upload_bytes(&mut t, src, "x.bin", b"copy me", 7).await.unwrap();
    let root = t.root().unwrap();
    let dst = a.mkdir(&mut t, root, "dst").await.unwrap();
    let one = a.copy(&mut t, f, dst, Some("y.bin")).await.unwrap();
    assert_ne!(one, f);
    assert_eq!(t.path(one).as_deref(), Some("/dst/y.bin"));
    assert_eq!(a.download_bytes(&t, one).await.unwrap(), b"copy me");
    let top = t.resolve("/src").unwrap();
    let copied = a.copy(&mut t, top, dst, None).await.unwrap();
    let inner_copy = t.resolve("/dst/src/inner/x.bin").unwrap();
    assert_ne!(inner_copy, f);
    assert_eq!(t.path(copied).as_deref(), Some("/dst/src"));
    let fresh = a.fetch_tree().await.unwrap();
    assert_eq!(fresh.resolve("/dst/src/inner/x.bin"), Some(inner_copy));
    assert_eq!(a.download_bytes(&fresh, inner_copy).await.unwrap(), b"copy me");
    server.stop().await;
}

#[tokio::test]
async fn bulk_seeded_trees_decrypt_whole() {
    let (server, a) = logged_in().await;
    let bulk = server.seed_bulk(EMAIL, 3, 4).unwrap();
    let t = a.fetch_tree().await.unwrap();
    assert_eq!(t.len(), 3 + 1 + 3 + 12);
    assert!(t.nodes().all(|n| n.is_decrypted()));
    assert_eq!(t.resolve("/bulk"), Some(bulk));
    let f = t.resolve("/bulk/dir-00002/file-0000011.bin").unwrap();
    assert_eq!(t.find_in(bulk, "file-*.bin").len(), 12);
    assert_eq!(a.download_bytes(&t, f).await.unwrap(), b"tuatara bulk seed file\n");
    server.stop().await;
}

/// Past 100,000 nodes the server writes `f` on several threads and the client parses and
/// decrypts it in batches on several: every node still arrives once, opened, under its parent.
#[tokio::test]
async fn a_tree_big_enough_for_every_thread_arrives_whole_and_in_order() {
    let (server, a) = logged_in().await;
    let bulk = server.seed_bulk(EMAIL, 101, 1000).unwrap();
    let t = a.fetch_tree().await.unwrap();
    assert_eq!(t.len(), 3 + 1 + 101 + 101 * 1000);
    assert!(t.nodes().all(|n| n.is_decrypted()));
    for d in [0, 50, 100] {
        let dir = t.resolve(&format!("/bulk/dir-{d:05}")).unwrap();
        let files = t.children(dir).count();
        assert_eq!(files, 1000, "dir {d}");
        let first = d * 1000;
        assert!(t.resolve(&format!("/bulk/dir-{d:05}/file-{first:07}.bin")).is_some());
        assert!(t.resolve(&format!("/bulk/dir-{d:05}/file-{:07}.bin", first + 999)).is_some());
    }
    assert_eq!(t.children(bulk).count(), 101);
    server.stop().await;
}
