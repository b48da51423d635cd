//! The fast path of `f`: the node array cut into whole objects by a byte scanner, parsed and
//! opened by several workers at once, and put into the tree in wire order by one builder.
//!
//! A reply that starts with `[{"f":[` (MEGA's and the test server's form) takes this path. The
//! scanner only tracks strings and nesting, so it runs at memory speed; the costly parts
//! (parsing a node, unwrapping its key, decrypting its attributes) are spread over the cores.
//! Workers open nodes with the keys known at the start; a node carrying a share key (`sk`), or
//! one they cannot open, goes to the builder as raw text and is opened there, in order, exactly
//! as the single-threaded path would.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use super::node::{Node, RawNode, RawNodeRef};
use super::{Keyring, Tree};

/// What a reply on the fast path starts with.
pub(super) const PREFIX: &[u8] = br#"[{"f":["#;

/// Node objects per batch.
const BATCH: usize = 2048;

/// Whole node objects, back to back, in wire order.
pub(super) struct Batch {
    seq: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// One node, opened by a worker or left for the builder.
pub(super) enum Item {
    /// Opened with the keys known at the start.
    Opened {
        /// The node.
        node: Node,
        /// It carried `su` (an incoming share's root).
        share_root: bool,
        /// Its key field has an entry under its own handle (a folder link's root).
        own_key: bool,
    },
    /// To be opened by the builder, in order.
    Raw(RawNode),
}

/// What the builder receives: a batch's items, or why the batch could not be read.
pub(super) type Built = (u64, Result<Vec<Item>, ()>);

/// Cuts the node array into batches of whole elements: node objects, and whatever else a
/// broken or hostile server put in the array (read as malformed nodes).
pub(super) struct Scanner {
    depth: u32,
    in_str: bool,
    escaped: bool,
    /// The element being read is a string (it ends with its closing quote).
    top_str: bool,
    /// The element being read is a bare number or literal (it ends before `,`, `]` or a space).
    scalar: bool,
    /// The array's closing `]` was seen; the rest is the tail.
    done: bool,
    batch: Vec<u8>,
    ends: Vec<usize>,
    seq: u64,
    /// What follows the node array (`,"ok":[...],...}]`).
    pub(super) tail: Vec<u8>,
}

impl Scanner {
    /// A scanner placed just after [`PREFIX`].
    pub(super) fn new() -> Self {
        Scanner {
            depth: 0,
            in_str: false,
            escaped: false,
            top_str: false,
            scalar: false,
            done: false,
            batch: Vec::new(),
            ends: Vec::new(),
            seq: 0,
            tail: Vec::new(),
        }
    }

    /// Scans `chunk`, handing every full batch to `emit`. Fails on bytes that cannot be part of
    /// a JSON array.
    pub(super) fn push(&mut self, chunk: &[u8], emit: &mut dyn FnMut(Batch)) -> Result<(), ()> {
        if self.done {
            self.tail.extend_from_slice(chunk);
            return Ok(());
        }
        // Where the current element's bytes start in this chunk, when inside one.
        let mut start = (self.depth > 0).then_some(0);
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if self.depth == 0 {
                match b {
                    b'{' | b'[' => {
                        self.depth = 1;
                        start = Some(i);
                    }
                    b'"' => {
                        (self.depth, self.in_str, self.top_str) = (1, true, true);
                        start = Some(i);
                    }
                    b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                        (self.depth, self.scalar) = (1, true);
                        start = Some(i);
                    }
                    b',' | b' ' | b'\n' | b'\r' | b'\t' => {}
                    b']' => {
                        self.done = true;
                        self.tail.extend_from_slice(&chunk[i + 1..]);
                        break;
                    }
                    _ => return Err(()),
                }
            } else if self.scalar {
                if matches!(b, b',' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    self.scalar = false;
                    self.end_element(&chunk[start.take().unwrap_or(0)..i], emit);
                    // The delimiter is read again, outside the element.
                    continue;
                }
            } else if self.in_str {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_str = false;
                    if self.top_str {
                        self.top_str = false;
                        self.end_element(&chunk[start.take().unwrap_or(0)..=i], emit);
                    }
                }
            } else {
                match b {
                    b'"' => self.in_str = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.end_element(&chunk[start.take().unwrap_or(0)..=i], emit);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        if let Some(from) = start {
            self.batch.extend_from_slice(&chunk[from..]);
        }
        Ok(())
    }

    /// Ends the element whose last bytes are `last` (the earlier ones are in the batch).
    fn end_element(&mut self, last: &[u8], emit: &mut dyn FnMut(Batch)) {
        self.depth = 0;
        self.batch.extend_from_slice(last);
        self.ends.push(self.batch.len());
        if self.ends.len() >= BATCH {
            emit(self.take());
        }
    }

    /// The last batch, once the body has ended; fails if the array never closed.
    pub(super) fn finish(&mut self, emit: &mut dyn FnMut(Batch)) -> Result<(), ()> {
        if !self.done {
            return Err(());
        }
        if !self.ends.is_empty() {
            emit(self.take());
        }
        Ok(())
    }

    fn take(&mut self) -> Batch {
        let b = Batch { seq: self.seq, bytes: std::mem::take(&mut self.batch), ends: std::mem::take(&mut self.ends) };
        self.seq += 1;
        b
    }

    /// The bytes held: the unfinished batch and the tail.
    pub(super) fn held(&self) -> usize {
        self.batch.len() + self.tail.len()
    }

    /// Batches handed out so far (the next sequence number).
    pub(super) fn batches(&self) -> u64 {
        self.seq
    }
}

/// Parses and opens one batch with the keys known at the start.
fn open_batch(keyring: &Keyring, batch: &Batch) -> Result<Vec<Item>, ()> {
    let folder_link = keyring.link_key.is_some();
    let mut items = Vec::with_capacity(batch.ends.len());
    let mut from = 0;
    for &end in &batch.ends {
        let bytes = &batch.bytes[from..end];
        from = end;
        // Not JSON (the scanner only checks the nesting): this element alone is malformed.
        let Ok(raw) = serde_json::from_slice::<RawNodeRef<'_>>(bytes) else {
            items.push(Item::Raw(RawNode { h: handle_in(bytes), malformed: Some("node"), ..RawNode::default() }));
            continue;
        };
        // A node carrying a share key changes the keyring; a malformed one is refused, with a
        // warning: the builder handles both, in order.
        if raw.has_share_key() || raw.is_malformed() {
            items.push(Item::Raw(raw.to_owned_node()));
            continue;
        }
        let fields = raw.fields();
        match keyring.open(fields) {
            Ok(node) if node.is_decrypted() => {
                let own_key = folder_link
                    && fields
                        .k
                        .is_some_and(|k| k.split('/').any(|e| e.split_once(':').is_some_and(|(o, _)| o == fields.h)));
                items.push(Item::Opened { node, share_root: raw.is_share_root(), own_key });
            }
            // Not opened with the starting keys (or no valid handle): the builder decides, in order.
            _ => items.push(Item::Raw(raw.to_owned_node())),
        }
    }
    Ok(items)
}

/// The handle of a node object that is not valid JSON, for the warning: the text of its `h`
/// field, if it is plainly there.
fn handle_in(bytes: &[u8]) -> String {
    const KEY: &[u8] = br#""h":""#;
    let Some(at) = bytes.windows(KEY.len()).position(|w| w == KEY) else { return String::new() };
    let value = &bytes[at + KEY.len()..];
    let value = &value[..value.iter().position(|&b| b == b'"').unwrap_or(value.len()).min(16)];
    String::from_utf8_lossy(value).into_owned()
}

/// Starts `n` workers taking batches from `batches` and sending what they open to `built`.
pub(super) fn start_workers(n: usize, keyring: &Keyring, batches: Receiver<Batch>, built: &Sender<Built>) {
    let batches = Arc::new(Mutex::new(batches));
    for _ in 0..n {
        let batches = Arc::clone(&batches);
        let built = built.clone();
        let keyring = keyring.clone();
        std::thread::spawn(move || loop {
            let next = batches.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
            let Ok(batch) = next else { return };
            if built.send((batch.seq, open_batch(&keyring, &batch))).is_err() {
                return;
            }
        });
    }
}

/// How many workers open nodes: one per core, at most four.
pub(super) fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

/// Puts the batches into the tree in sequence order; returns the tree and whether every batch
/// could be read. `add` inserts a raw node exactly as the single-threaded path does.
pub(super) fn build(
    mut tree: Tree,
    built: Receiver<Built>,
    add: fn(&mut Tree, &RawNode),
    set_root: fn(&mut Tree, (super::NodeHandle, bool)),
) -> (Tree, bool) {
    let mut waiting: BTreeMap<u64, Result<Vec<Item>, ()>> = BTreeMap::new();
    let mut next = 0;
    let mut ok = true;
    for (seq, items) in built {
        waiting.insert(seq, items);
        while let Some(items) = waiting.remove(&next) {
            next += 1;
            let Ok(items) = items else {
                ok = false;
                continue;
            };
            for item in items {
                match item {
                    Item::Opened { node, share_root, own_key } => {
                        let (h, _) = tree.add_opened(node, share_root);
                        set_root(&mut tree, (h, own_key));
                    }
                    Item::Raw(raw) => add(&mut tree, &raw),
                }
            }
        }
    }
    (tree, ok && waiting.is_empty())
}

/// A sender of batches to the workers, bounded so the scanner never runs far ahead.
pub(super) fn batch_channel(workers: usize) -> (SyncSender<Batch>, Receiver<Batch>) {
    std::sync::mpsc::sync_channel(workers * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]]) -> (Vec<Vec<String>>, Vec<u8>, Result<(), ()>) {
        let mut s = Scanner::new();
        let mut out = Vec::new();
        let mut emit = |b: Batch| {
            let mut from = 0;
            let objs = b.ends.iter().map(|&e| {
                let o = String::from_utf8(b.bytes[from..e].to_vec()).unwrap();
                from = e;
                o
            });
            out.push(objs.collect());
        };
        let mut r = Ok(());
        for c in chunks {
            r = r.and(s.push(c, &mut emit));
        }
        r = r.and(s.finish(&mut emit));
        (out, s.tail.clone(), r)
    }

    #[test]
    fn objects_are_cut_whole_across_chunks_strings_and_escapes() {
        let body = br#"{"h":"a}","a":"x\"{"} , {"h":"b","n":{"x":[1,{}]}}],"ok":[],"sn":"s"}]"#;
        for cut in 0..body.len() {
            let (batches, tail, r) = scan(&[&body[..cut], &body[cut..]]);
            assert!(r.is_ok(), "cut at {cut}");
            let objs: Vec<String> = batches.into_iter().flatten().collect();
            assert_eq!(objs, [r#"{"h":"a}","a":"x\"{"}"#, r#"{"h":"b","n":{"x":[1,{}]}}"#], "cut at {cut}");
            assert_eq!(tail, br#","ok":[],"sn":"s"}]"#, "cut at {cut}");
        }
    }

    #[test]
    fn elements_other_than_objects_are_cut_whole_too() {
        let body = br#"{"h":"a"},7, -1.5e3 ,"x\"]{",[1,{"h":"]"}],true,null,{"h":"b"}],"sn":"s"}]"#;
        let want = [r#"{"h":"a"}"#, "7", "-1.5e3", r#""x\"]{""#, r#"[1,{"h":"]"}]"#, "true", "null", r#"{"h":"b"}"#];
        for cut in 0..body.len() {
            let (batches, tail, r) = scan(&[&body[..cut], &body[cut..]]);
            assert!(r.is_ok(), "cut at {cut}");
            let objs: Vec<String> = batches.into_iter().flatten().collect();
            assert_eq!(objs, want, "cut at {cut}");
            assert_eq!(tail, br#","sn":"s"}]"#, "cut at {cut}");
        }
    }

    #[test]
    fn a_truncated_or_foreign_body_is_refused() {
        assert!(scan(&[br#"{"h":"a"}"#]).2.is_err(), "no closing bracket");
        assert!(scan(&[br#"{"h":"a"},7"#]).2.is_err(), "no closing bracket after a number");
        assert!(scan(&[br#"{"h":"a"}},{"h":"b"}]"#]).2.is_err(), "a stray closing brace");
        assert!(scan(&[br#"{"h":"a"},<html>]"#]).2.is_err(), "not JSON");
        let (batches, _, r) = scan(&[b"]"]);
        assert!(r.is_ok() && batches.is_empty(), "an empty array");
    }

    #[test]
    fn a_node_that_is_not_json_is_one_malformed_item() {
        let mut s = Scanner::new();
        let mut batches = Vec::new();
        let body =
            "{\"h\":\"AAAAAAAB\",,\"t\":1},{\"h\":\"AAAAAAAC\",\"a\":\"\u{ff}\"},\"x\",{\"h\":\"AAAAAAAD\",\"t\":1}]";
        let mut bytes = body.as_bytes().to_vec();
        // An invalid UTF-8 byte in the second node's `a`.
        let at = bytes.windows(2).position(|w| w == "\u{ff}".as_bytes()).unwrap();
        bytes.splice(at..at + 2, [0xff]);
        s.push(&bytes, &mut |b| batches.push(b)).unwrap();
        s.finish(&mut |b| batches.push(b)).unwrap();
        let items = open_batch(&Keyring::default(), &batches[0]).unwrap();
        let seen: Vec<(String, Option<&str>)> = items
            .iter()
            .map(|i| match i {
                Item::Raw(r) => (r.h.clone(), r.malformed),
                Item::Opened { node, .. } => (node.handle().to_b64(), None),
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("AAAAAAAB".to_string(), Some("node")),
                ("AAAAAAAC".to_string(), Some("node")),
                (String::new(), Some("node")),
                ("AAAAAAAD".to_string(), None),
            ]
        );
    }
}
