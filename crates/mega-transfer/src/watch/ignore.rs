//! What a watched folder never uploads: partial downloads, editors' temporary and lock files,
//! the Finder's `.DS_Store`, and the user's own globs.

use std::path::Path;

/// Always ignored, whatever the user adds.
pub const DEFAULT_IGNORES: &[&str] =
    &["*.part", "*.tmp", "~$*", ".~lock*", ".DS_Store", "Thumbs.db", "*.swp", "*~", ".#*"];

/// A set of globs (`*` any run of characters, `?` one character), matched against every
/// component of a path relative to the watched folder: a match anywhere ignores the path (an
/// ignored folder ignores all in it).
#[derive(Debug, Clone)]
pub struct Ignore {
    globs: Vec<Vec<char>>,
}

impl Ignore {
    /// The defaults plus `extra`.
    pub fn new<S: AsRef<str>>(extra: &[S]) -> Self {
        let globs = DEFAULT_IGNORES
            .iter()
            .map(|g| g.chars().collect())
            .chain(extra.iter().map(|g| g.as_ref().chars().collect()))
            .collect();
        Ignore { globs }
    }

    /// Is `rel` (relative to the watched folder) ignored?
    pub fn is_ignored(&self, rel: &Path) -> bool {
        rel.components().any(|c| {
            let name: Vec<char> = c.as_os_str().to_string_lossy().chars().collect();
            self.globs.iter().any(|g| glob_match(g, &name))
        })
    }
}

/// `*` and `?` globbing, iterative (no exponential backtracking).
fn glob_match(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_user_globs() {
        let i = Ignore::new(&["build", "*.o"]);
        for yes in ["a/b.part", "x.tmp", "~$report.docx", ".~lock.a.odt#", ".DS_Store", "build/x.c", "d/m.o", "a~"] {
            assert!(i.is_ignored(Path::new(yes)), "{yes}");
        }
        for no in ["a/b.txt", "part", "tmp/x.txt", "report.docx", "builds/x", "m.od", "a.partial"] {
            assert!(!i.is_ignored(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn globs() {
        let m = |p: &str, n: &str| glob_match(&p.chars().collect::<Vec<_>>(), &n.chars().collect::<Vec<_>>());
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("?.t?t", "a.txt"));
        assert!(!m("?.txt", "ab.txt"));
        assert!(m("**x", "yyx"));
    }
}
