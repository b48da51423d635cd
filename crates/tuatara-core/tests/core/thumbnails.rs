//! Thumbnails and previews through mega-api, cached by attribute handle.

use mega_api::FileAttribute;
use tuatara_core::thumbnails::Thumbnails;
use tuatara_core::Dirs;

#[tokio::test]
async fn a_thumbnail_is_fetched_once_decrypted_and_then_served_from_the_cache() {
    let (server, session) = crate::logged_in().await;
    let mut tree = session.fetch_tree().await.unwrap();
    let root = tree.roots().cloud.unwrap();
    let with = session.upload_bytes(&mut tree, root, "cat.jpg", b"not really a picture", 0).await.unwrap();
    let without = session.upload_bytes(&mut tree, root, "notes.txt", b"plain words", 0).await.unwrap();
    let key = tree.node(with).unwrap().file_key().unwrap();
    // A JPEG ends with its EOI marker; the cipher's zero padding must not stay on it.
    let thumb = [&[0xFF, 0xD8][..], &[7u8; 40], &[0xFF, 0xD9]].concat();
    session.put_file_attributes(with, &key, &[(0, thumb.clone())]).await.unwrap();
    let tree = tokio::sync::Mutex::new(session.fetch_tree().await.unwrap());

    let dir = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(dir.path().join("config"), dir.path().join("data"));
    let cache = Thumbnails::new(&dirs);
    let got = cache.get(&session, &tree, with, FileAttribute::Thumbnail).await.unwrap();
    assert_eq!(got.as_deref(), Some(&thumb[..]));
    assert_eq!(cache.get(&session, &tree, with, FileAttribute::Preview).await.unwrap(), None, "no preview was put");
    assert_eq!(cache.get(&session, &tree, without, FileAttribute::Thumbnail).await.unwrap(), None);
    assert_eq!(std::fs::read_dir(dirs.thumbnails()).unwrap().count(), 1, "one cached file");

    // With the server gone, the cached one is still there.
    server.stop().await;
    let again = cache.get(&session, &tree, with, FileAttribute::Thumbnail).await.unwrap();
    assert_eq!(again.as_deref(), Some(&thumb[..]));
}
