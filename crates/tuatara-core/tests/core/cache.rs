//! The node cache's damage inside a sound database file (issue 17): whichever page row is
//! garbled (a flipped byte), a start gives the right listing, sets the file aside with a warning
//! and rebuilds it.

use tuatara_core::cache::{self, CachedTree, Origin};
use tuatara_core::Dirs;

fn set_aside(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".corrupt-"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_page_is_set_aside_and_never_gives_a_wrong_listing() {
    let (server, session) = crate::logged_in().await;
    let other = crate::login(&server).await;
    let mut theirs = other.fetch_tree().await.unwrap();
    let root = theirs.root().unwrap();
    let docs = other.mkdir(&mut theirs, root, "Docs").await.unwrap();
    let deep = other.mkdir(&mut theirs, docs, "Deep").await.unwrap();
    for i in 0..5 {
        other.upload_bytes(&mut theirs, deep, &format!("d{i}.txt"), b"x", 0).await.unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path().join("config"), tmp.path().join("data"));
    let file = cache::path(&dirs, session.client().api_url(), session.email());
    let listing = |c: &CachedTree| {
        let t = c.tree();
        let mut names: Vec<String> =
            t.children(t.resolve("/Docs/Deep").expect("/Docs/Deep")).map(|n| n.name().to_string()).collect();
        names.sort();
        names
    };
    let want: Vec<String> = (0..5).map(|i| format!("d{i}.txt")).collect();
    let mut first = CachedTree::open(&dirs, &session).await.unwrap();
    assert_eq!(first.origin(), Origin::Fetched);
    first.load_path(&session, "/Docs/Deep").await.unwrap();
    assert_eq!(listing(&first), want);
    drop(first);

    let rows: Vec<i64> = {
        let conn = rusqlite::Connection::open(&file).unwrap();
        let mut stmt = conn.prepare("SELECT rowid FROM pages").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(rows.len() >= 4, "top, the drive, Docs, Deep: {rows:?}");
    for (i, _) in rows.iter().enumerate() {
        // The rows are rewritten at each rebuild: the i-th of the current file.
        {
            let conn = rusqlite::Connection::open(&file).unwrap();
            let row: i64 = conn
                .query_row("SELECT rowid FROM pages ORDER BY rowid LIMIT 1 OFFSET ?1", [i as i64], |r| r.get(0))
                .unwrap();
            let changed = conn
                .execute("UPDATE pages SET v = substr(v, 1, 20) || x'A5' || substr(v, 22) WHERE rowid = ?1", [row])
                .unwrap();
            assert_eq!(changed, 1);
        }
        let aside = set_aside(file.parent().unwrap());
        let mut c = CachedTree::open(&dirs, &session).await.unwrap();
        c.load_path(&session, "/Docs/Deep").await.unwrap();
        assert_eq!(listing(&c), want, "with row {i} garbled");
        drop(c);
        assert_eq!(set_aside(file.parent().unwrap()), aside + 1, "row {i}: the file is set aside");
        // Rebuilt: the next start reads it back.
        let c = CachedTree::open(&dirs, &session).await.unwrap();
        assert_eq!(c.origin(), Origin::Cache, "row {i}: rebuilt");
    }
    server.stop().await;
}
