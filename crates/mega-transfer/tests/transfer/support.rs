//! An engine on a [`Drive`]: its journal in the drive's scratch directory, 256 KiB pieces.

use std::path::PathBuf;

use mega_transfer::{Engine, EngineConfig};
use test_support::Drive;

/// Engines on a drive.
pub(crate) trait Engines {
    /// An engine on the drive's session and tree, 256 KiB pieces, `tune`d.
    fn engine(&self, tune: impl FnOnce(&mut EngineConfig)) -> Engine;

    /// Where downloads go: `downloads` in the scratch directory.
    fn dest(&self) -> PathBuf;
}

impl Engines for Drive {
    fn engine(&self, tune: impl FnOnce(&mut EngineConfig)) -> Engine {
        let mut config = EngineConfig::new(self.tmp.path().join("journal"));
        config.piece_size = 256 << 10;
        tune(&mut config);
        Engine::new(config, self.session.client().clone(), Some(self.session.clone()), Some(self.tree.clone())).unwrap()
    }

    fn dest(&self) -> PathBuf {
        self.tmp.path().join("downloads")
    }
}
