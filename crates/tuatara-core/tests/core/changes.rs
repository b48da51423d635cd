//! The event channel applied to a tree, naming the folders whose listings changed.

use std::sync::Arc;
use std::time::Duration;

use mega_api::NodeHandle;

#[tokio::test]
async fn changes_made_elsewhere_name_the_folders_before_and_after() {
    let (server, session) = crate::logged_in().await;
    let other = crate::login(&server).await;
    let mut theirs = other.fetch_tree().await.unwrap();
    let root = theirs.roots().cloud.unwrap();
    let a = other.mkdir(&mut theirs, root, "A").await.unwrap();
    let b = other.mkdir(&mut theirs, root, "B").await.unwrap();
    let f = other.upload_bytes(&mut theirs, a, "f.txt", b"one", 0).await.unwrap();
    let g = other.upload_bytes(&mut theirs, b, "g.txt", b"two", 0).await.unwrap();

    let tree = Arc::new(tokio::sync::Mutex::new(session.fetch_tree().await.unwrap()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<NodeHandle>>();
    let follower = tokio::spawn(tuatara_core::changes::follow(session.clone(), tree.clone(), None, move |f| {
        let _ = tx.send(f);
    }));
    let mut next = async || tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();

    other.rename(&mut theirs, f, "renamed.txt").await.unwrap();
    assert_eq!(next().await, vec![a], "a rename changes its folder's listing");
    other.move_node(&mut theirs, f, b).await.unwrap();
    let mut moved = next().await;
    moved.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(moved, both, "a move changes the listings it left and joined");
    other.remove(&mut theirs, g).await.unwrap();
    let removed = next().await;
    assert!(removed.contains(&b), "the folder of a removed file: {removed:?}");
    let t = tree.lock().await;
    assert!(t.get(g).is_none());
    assert_eq!(t.node(f).unwrap().parent(), Some(b));
    assert_eq!(t.node(f).unwrap().name(), "renamed.txt");
    drop(t);

    // An ended session ends the follower, with the error that says so.
    // (A change wakes its long poll; the next poll is refused.)
    session.clone().logout().await.unwrap();
    other.mkdir(&mut theirs, root, "C").await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(20), follower).await.unwrap().unwrap();
    assert_eq!(ended.kind(), mega_api::ErrorKind::SessionExpired);
}
