//! Duplicate names in one folder (which MEGA allows): which node to keep and the free numbered
//! names to rename the others to. The CLI's `dedupe` and the app's "resolve" both decide here.

use mega_proto::NodeHandle;

use super::{Node, Tree};

/// Which node of a set of duplicates to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The first in listing order.
    First,
    /// The one modified last (its creation time where it has no mtime).
    Newest,
    /// The one modified first.
    Oldest,
    /// The largest.
    Largest,
    /// The smallest.
    Smallest,
}

/// The node to keep among `nodes` (in listing order); the first listed wins ties.
pub fn keeper(keep: Keep, nodes: &[&Node]) -> Option<NodeHandle> {
    let pick = |f: &dyn Fn(&Node, &Node) -> std::cmp::Ordering| {
        // max_by keeps the last of equals; iterate reversed so the first listed wins ties.
        nodes.iter().rev().max_by(|a, b| f(a, b)).map(|n| n.handle())
    };
    match keep {
        Keep::First => nodes.first().map(|n| n.handle()),
        Keep::Newest => pick(&|a, b| a.modified().cmp(&b.modified())),
        Keep::Oldest => pick(&|a, b| b.modified().cmp(&a.modified())),
        Keep::Largest => pick(&|a, b| a.size().cmp(&b.size())),
        Keep::Smallest => pick(&|a, b| b.size().cmp(&a.size())),
    }
}

/// How a duplicate is numbered apart; the number goes before the extension (what follows the
/// last dot, unless the name starts with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// `name-1.ext`, as rclone's `dedupe rename` does.
    Dash,
    /// `name (1).ext`, as file managers do.
    Parenthesised,
}

impl Numbering {
    /// `name` with number `n`.
    pub fn apply(self, name: &str, n: usize) -> String {
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
            _ => (name, None),
        };
        let numbered = match self {
            Numbering::Dash => format!("{stem}-{n}"),
            Numbering::Parenthesised => format!("{stem} ({n})"),
        };
        match ext {
            Some(ext) => format!("{numbered}.{ext}"),
            None => numbered,
        }
    }
}

impl Tree {
    /// The next numbered form of `name` (counting on from `*n`) that nothing in `folder` is
    /// called yet; `*n` is left at the number used.
    pub fn free_numbered_name(&self, folder: NodeHandle, name: &str, numbering: Numbering, n: &mut usize) -> String {
        loop {
            *n += 1;
            let candidate = numbering.apply(name, *n);
            if self.children_named(folder, &candidate).next().is_none() {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Numbering;

    #[test]
    fn numbered_names_keep_the_extension() {
        let dash = |name, n| Numbering::Dash.apply(name, n);
        assert_eq!(dash("report.pdf", 1), "report-1.pdf");
        assert_eq!(dash("a.tar.gz", 2), "a.tar-2.gz");
        assert_eq!(dash("Notes", 3), "Notes-3");
        assert_eq!(dash(".hidden", 1), ".hidden-1");
        let paren = |name, n| Numbering::Parenthesised.apply(name, n);
        assert_eq!(paren("a.txt", 1), "a (1).txt");
        assert_eq!(paren("archive.tar.gz", 2), "archive.tar (2).gz");
        assert_eq!(paren(".bashrc", 1), ".bashrc (1)");
        assert_eq!(paren("notes", 3), "notes (3)");
    }
}
