//! Thumbnails and previews of the account's pictures, fetched through `mega-api` and kept
//! (the plain JPEG) in the data dir by attribute handle: an attribute's data never changes
//! under its handle, so each is fetched once.

use std::path::PathBuf;

use mega_api::{FileAttribute, NodeHandle, Session, Tree};

use crate::dirs::Dirs;
use crate::error::{Error, Result};

/// The cache of file attributes.
#[derive(Debug, Clone)]
pub struct Thumbnails {
    dir: PathBuf,
}

impl Thumbnails {
    /// The cache of these directories.
    pub fn new(dirs: &Dirs) -> Self {
        Thumbnails { dir: dirs.thumbnails() }
    }

    /// A file's thumbnail or preview (JPEG bytes), or `None` when it has none. The tree is
    /// locked only to read the node.
    pub async fn get(
        &self,
        session: &Session,
        tree: &tokio::sync::Mutex<Tree>,
        h: NodeHandle,
        which: FileAttribute,
    ) -> Result<Option<Vec<u8>>> {
        let (fa, key) = {
            let tree = tree.lock().await;
            let n = tree.node(h)?;
            let Some(fa) = n.file_attributes().filter(|fa| which.handle_in(fa).is_some()) else { return Ok(None) };
            let key = n.file_key().ok_or_else(|| Error::Internal(format!("{} has no key to decrypt it", n.name())))?;
            (fa.to_string(), key)
        };
        let Some(fah) = which.handle_in(&fa) else { return Ok(None) };
        let suffix = if which == FileAttribute::Preview { "preview.jpg" } else { "jpg" };
        let cached = self.dir.join(format!("{fah}.{suffix}"));
        if let Ok(jpeg) = std::fs::read(&cached) {
            return Ok(Some(jpeg));
        }
        let Some(jpeg) = session.file_attribute(&fa, which, &key).await? else { return Ok(None) };
        if let Err(e) = crate::files::write_atomic(&cached, &jpeg) {
            tracing::debug!("a thumbnail was not cached: {e}");
        }
        Ok(Some(jpeg))
    }
}
