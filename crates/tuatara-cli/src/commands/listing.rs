//! Read-only commands: `ls`, `lsd`, `tree`, `find`. They read the own drive or a link.

use mega_api::{Node, NodeHandle, PublicFile, Tree};
use serde_json::{json, Value};

use crate::cli::LsArgs;
use crate::error::Result;
use crate::output::{size, time};
use crate::remote::{path_of, App, Scope, Source};

/// One listed node.
struct Entry {
    name: String,
    path: String,
    folder: bool,
    size: u64,
    mtime: Option<i64>,
    handle: String,
}

impl Entry {
    fn of(tree: &Tree, n: &Node) -> Self {
        Entry {
            name: n.name().to_string(),
            path: path_of(tree, n.handle()),
            folder: n.is_container(),
            size: if n.is_file() { n.size() } else { folder_size(tree, n.handle()) },
            mtime: Some(n.modified()),
            handle: n.handle().to_string(),
        }
    }

    fn of_file(f: &PublicFile) -> Self {
        Entry {
            name: f.name.clone(),
            path: f.name.clone(),
            folder: false,
            size: f.size,
            mtime: f.attributes.0.get("mtime").and_then(Value::as_i64),
            handle: f.handle.to_string(),
        }
    }

    /// `shown` is the name or the relative path.
    fn text(&self, shown: &str, long: bool) -> String {
        let slash = if self.folder { "/" } else { "" };
        if !long {
            return format!("{shown}{slash}");
        }
        let t = self.mtime.map(time).unwrap_or_else(|| "-".repeat(16));
        format!("{:>10}  {t}  {}  {shown}{slash}", size(self.size), self.handle)
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name,
            "path": self.path,
            "type": if self.folder { "folder" } else { "file" },
            "size": self.size,
            "mtime": self.mtime,
            "handle": self.handle,
        })
    }
}

fn folder_size(tree: &Tree, h: NodeHandle) -> u64 {
    tree.subtree(h).into_iter().filter_map(|d| tree.get(d)).filter(|n| n.is_file()).map(Node::size).sum()
}

/// Children sorted: folders first, then by name.
fn sorted_children(tree: &Tree, h: NodeHandle) -> Vec<&Node> {
    let mut kids: Vec<&Node> = tree.children(h).collect();
    kids.sort_by(|a, b| b.is_container().cmp(&a.is_container()).then_with(|| a.name().cmp(b.name())));
    kids
}

/// Calls `f` with every entry below `top` and its shown name (the relative path when
/// recursive), each folder followed by its contents. Nothing is collected, so a listing of a
/// million nodes costs no more memory than the tree itself.
fn walk<'t>(tree: &'t Tree, top: NodeHandle, recursive: bool, folders_only: bool, f: &mut dyn FnMut(&str, &'t Node)) {
    fn visit<'t>(
        tree: &'t Tree,
        h: NodeHandle,
        prefix: &mut String,
        recursive: bool,
        folders_only: bool,
        f: &mut dyn FnMut(&str, &'t Node),
    ) {
        for n in sorted_children(tree, h) {
            let len = prefix.len();
            prefix.push_str(n.name());
            if !folders_only || n.is_container() {
                f(prefix, n);
            }
            if n.is_container() && recursive {
                prefix.push('/');
                visit(tree, n.handle(), prefix, recursive, folders_only, f);
            }
            prefix.truncate(len);
        }
    }
    visit(tree, top, &mut String::new(), recursive, folders_only, f);
}

/// A text line of `ls`: the name, or with `long` the size, time and handle too. Folder sizes
/// (a walk of their subtree) are only computed for the long form.
fn text_line(tree: &Tree, n: &Node, shown: &str, long: bool) -> String {
    let slash = if n.is_container() { "/" } else { "" };
    if !long {
        return format!("{shown}{slash}");
    }
    Entry::of(tree, n).text(shown, true)
}

/// `ls` / `lsd`. `//shares` lists the incoming shares (with `-R`, what is in them too).
pub(crate) async fn ls(app: &App, args: LsArgs, folders_only: bool) -> Result<()> {
    if args.path.as_deref().map(|p| p.trim_end_matches('/')) == Some("//shares") {
        let scope = if args.recursive || args.long || app.out.json { Scope::Subtree } else { Scope::Children };
        let (_, tree) = app.drive_at("//shares", scope).await?;
        let mut shares: Vec<&Node> = tree.incoming_shares().iter().filter_map(|&h| tree.get(h)).collect();
        shares.sort_by(|a, b| a.name().cmp(b.name()));
        let (mut text, mut all) = (Vec::new(), Vec::new());
        for share in shares {
            text.push(text_line(&tree, share, share.name(), args.long));
            all.push(Entry::of(&tree, share).json());
            if args.recursive {
                walk(&tree, share.handle(), true, folders_only, &mut |shown, n| {
                    text.push(text_line(&tree, n, &format!("{}/{shown}", share.name()), args.long));
                    all.push(Entry::of(&tree, n).json());
                });
            }
        }
        app.out.emit(&text, &Value::Array(all));
        return Ok(());
    }
    // Folder sizes (long and JSON forms) and -R read below the folder; a plain listing reads
    // its children only.
    let scope = if args.long || args.recursive || app.out.json { Scope::Subtree } else { Scope::Children };
    let source = app.open(args.path.as_deref().unwrap_or("/"), scope).await?;
    match &source {
        Source::File(f) => {
            let entries: Vec<Entry> = if folders_only { Vec::new() } else { vec![Entry::of_file(f)] };
            let text: Vec<String> = entries.iter().map(|e| e.text(&e.name, args.long)).collect();
            app.out.emit(&text, &Value::Array(entries.iter().map(Entry::json).collect()));
        }
        Source::Tree { tree, node, .. } => {
            let n = tree.node(*node)?;
            if !n.is_container() {
                let entries: Vec<Entry> = if folders_only { Vec::new() } else { vec![Entry::of(tree, n)] };
                let text: Vec<String> = entries.iter().map(|e| e.text(&e.name, args.long)).collect();
                app.out.emit(&text, &Value::Array(entries.iter().map(Entry::json).collect()));
            } else if app.out.json {
                let mut all = Vec::new();
                walk(tree, *node, args.recursive, folders_only, &mut |_, n| all.push(Entry::of(tree, n).json()));
                app.out.json(&Value::Array(all));
            } else {
                let mut out = app.out.lines();
                walk(tree, *node, args.recursive, folders_only, &mut |shown, n| {
                    out.line(&text_line(tree, n, shown, args.long))
                });
                out.finish();
            }
        }
    }
    Ok(())
}

/// `tree`.
pub(crate) async fn tree(app: &App, path: Option<String>) -> Result<()> {
    let source = app.open(path.as_deref().unwrap_or("/"), Scope::Subtree).await?;
    let Source::Tree { tree, node, .. } = source else {
        let Source::File(f) = source else { unreachable!("two variants") };
        app.out.emit(std::slice::from_ref(&f.name), &json!({"name": f.name, "type": "file", "size": f.size}));
        return Ok(());
    };
    let mut lines = vec![path_of(&tree, node)];
    draw(&tree, node, "", &mut lines);
    app.out.emit(&lines, &nested(&tree, node));
    Ok(())
}

fn draw(tree: &Tree, h: NodeHandle, indent: &str, lines: &mut Vec<String>) {
    let kids = sorted_children(tree, h);
    for (i, n) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        let slash = if n.is_container() { "/" } else { "" };
        lines.push(format!("{indent}{}{}{slash}", if last { "└── " } else { "├── " }, n.name()));
        if n.is_container() {
            draw(tree, n.handle(), &format!("{indent}{}", if last { "    " } else { "│   " }), lines);
        }
    }
}

fn nested(tree: &Tree, h: NodeHandle) -> Value {
    let Some(n) = tree.get(h) else { return Value::Null };
    let mut v = json!({"name": n.name(), "type": if n.is_container() { "folder" } else { "file" }, "size": n.size()});
    if n.is_container() {
        v["children"] = Value::Array(sorted_children(tree, h).iter().map(|c| nested(tree, c.handle())).collect());
    }
    v
}

/// `find PATTERN [--in PATH]`.
pub(crate) async fn find(app: &App, pattern: &str, within: Option<String>) -> Result<()> {
    let source = app.open(within.as_deref().unwrap_or("/"), Scope::Subtree).await?;
    let found: Vec<Entry> = match &source {
        Source::File(f) => {
            if mega_api::tree::glob_match(pattern, &f.name) {
                vec![Entry::of_file(f)]
            } else {
                Vec::new()
            }
        }
        Source::Tree { tree, node, .. } => {
            let mut hits: Vec<Entry> = tree
                .find_in(*node, pattern)
                .into_iter()
                .filter_map(|h| tree.get(h))
                .map(|n| Entry::of(tree, n))
                .collect();
            hits.sort_by(|a, b| a.path.cmp(&b.path));
            hits
        }
    };
    let text: Vec<String> = found.iter().map(|e| e.text(&e.path, false)).collect();
    app.out.emit(&text, &Value::Array(found.iter().map(Entry::json).collect()));
    Ok(())
}
