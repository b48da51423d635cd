//! `f`: fetching the whole tree, parsed as it streams in.
//!
//! A million-node reply is hundreds of megabytes of JSON; it is never held whole. The body is
//! fed chunk by chunk to a blocking thread. A reply that starts with the node array (the usual
//! shape) is cut into batches of whole node objects ([`split`]) that worker threads parse and
//! decrypt; any other shape goes through a serde visitor that reads one node at a time. Either
//! way a builder thread puts the nodes into the tree in the wire's order (a share root's key
//! is learnt before its children are opened), and the peak memory is the tree plus a few
//! batches.
//!
//! Limits: the reply has no length limit (a million nodes are a few hundred MB, and bigger
//! accounts exist), as it is never held whole. What is held is bounded instead: the bytes of
//! one unfinished batch, or of the part after the node array, at most [`MAX_HELD`]; a reply
//! in another shape than the service's, at most [`MAX_HELD`] in all (the general parser may
//! hold one value as big as the reply). Time: no overall deadline, but each period of the
//! idle timeout must bring [`MIN_PROGRESS`] bytes, so a trickle fails like a dead server.

use std::cell::Cell;
use std::fmt;
use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use mega_proto::{ErrorCode, NodeHandle};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::json;

use super::{split, Keyring, RawNode, Tree};
use crate::client::{Auth, Budget, Client, Reply};
use crate::error::{Error, Result};

/// Fetches and decrypts the tree (`f`) with the keys of `keyring`.
pub(crate) async fn fetch_tree(client: &Client, auth: &Auth, keyring: Keyring) -> Result<Tree> {
    let in_folder_link = keyring.link_key.is_some();
    // A session's tree comes with the account's `^!keys`, read in the same request.
    let cmds = match &keyring.master {
        _ if in_folder_link => vec![json!({"a": "f", "c": 1, "ca": 1, "r": 1})],
        Some(_) => vec![json!({"a": "f", "c": 1, "r": 1}), super::keys::read_command()],
        None => vec![json!({"a": "f", "c": 1, "r": 1})],
    };
    let body = serde_json::to_vec(&cmds).unwrap_or_default();
    let started = std::time::Instant::now();
    let tree = client
        .execute(auth, "f", body, Budget::Streamed, |resp| {
            let keyring = keyring.clone();
            let idle = client.config().idle_timeout;
            async move { stream_parse(resp, keyring, idle).await }
        })
        .await?;
    tracing::debug!(nodes = tree.len(), elapsed = ?started.elapsed(), "fetched the tree");
    Ok(tree)
}

/// The parts of the `f` reply other than the nodes.
#[derive(Default)]
struct Extras {
    ok: Vec<OkEntry>,
    ph: Vec<PhEntry>,
    /// The outgoing shares (`s`): with users and `EXP` (folder links).
    s: Vec<ShareEntry>,
    sn: Option<String>,
    /// The answer to the command after `f` in the request (the `uga` of `^!keys`).
    next: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShareEntry {
    h: String,
    /// The sharee: a user handle, or `EXP` for the folder link.
    u: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OkEntry {
    h: String,
    ha: String,
    k: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhEntry {
    h: String,
    ph: String,
}

enum Outcome {
    Parsed(Extras),
    RequestError(i64),
    CommandError(i64),
    /// More than [`MAX_HELD`] bytes would have been held.
    TooLarge,
}

/// Raw nodes handed from the slow-path parser to the builder at a time.
const BATCH: usize = 2048;

/// The most bytes of the reply held at once: a batch of 2,048 nodes is about 1 MB (a node
/// with many share keys a few KB), and what follows the nodes (`ok`, `ph`, `sn`) grows with
/// shares and links only, so 256 MiB is only ever reached by a broken or hostile reply.
const MAX_HELD: usize = 256 << 20;

/// The least a streaming `f` reply must bring in each period of the idle timeout (from its
/// head on). A reply this slow (about 0.5 KiB/s with the default 30 s) would take days for a
/// big account; one that trickles a byte every few seconds is a dead server.
const MIN_PROGRESS: u64 = 16 << 10;

async fn stream_parse(mut resp: reqwest::Response, keyring: Keyring, idle: Duration) -> Result<Reply<Tree>> {
    let keys_asked = keyring.master.is_some() && keyring.link_key.is_none();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let (built_tx, built_rx) = std::sync::mpsc::channel::<split::Built>();
    let tree = Tree::new(keyring.clone());
    let builder = tokio::task::spawn_blocking(move || split::build(tree, built_rx, add_node, link_root));
    let parser = tokio::task::spawn_blocking(move || parse(rx, &keyring, built_tx, MAX_HELD));
    let mut feed_error = None;
    let started = std::time::Instant::now();
    let mut first_byte = None;
    // The current progress period: when it started and the bytes it brought.
    let mut period = (Instant::now(), 0u64);
    loop {
        let left = idle.saturating_sub(period.0.elapsed());
        let next = tokio::time::timeout(left, resp.chunk()).await;
        if period.0.elapsed() >= idle {
            if period.1 < MIN_PROGRESS {
                tracing::warn!(bytes = period.1, ?idle, "the f reply stalled");
                feed_error = Some(Error::TimedOut { context: "f", attempts: 1, waited: started.elapsed() });
                break;
            }
            period = (Instant::now(), 0);
        }
        match next {
            // The period ended with enough bytes: the next one starts.
            Err(_) => {}
            Ok(Ok(Some(chunk))) => {
                first_byte.get_or_insert_with(|| started.elapsed());
                period.1 += chunk.len() as u64;
                if tx.send(chunk.to_vec()).await.is_err() {
                    break;
                }
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                feed_error = Some(Error::network("f", e));
                break;
            }
        }
    }
    let received = started.elapsed();
    drop(tx);
    let outcome = parser.await.map_err(|_| Error::Cancelled)?;
    let (mut tree, complete) = builder.await.map_err(|_| Error::Cancelled)?;
    tracing::debug!(?first_byte, ?received, parsed = ?started.elapsed(), "f reply streamed and parsed");
    if let Ok(Outcome::TooLarge) = outcome {
        return Err(Error::TooLarge { context: "f", limit: MAX_HELD as u64 });
    }
    if let Some(e) = feed_error {
        return Err(e);
    }
    match outcome.ok().filter(|_| complete).ok_or_else(|| Error::protocol("f", "malformed JSON"))? {
        Outcome::TooLarge => Err(Error::TooLarge { context: "f", limit: MAX_HELD as u64 }),
        Outcome::RequestError(code) => Ok(Reply::Failed(ErrorCode::from_code(code))),
        Outcome::CommandError(code) => Err(Error::api("f", ErrorCode::from_code(code))),
        Outcome::Parsed(extras) => {
            finish(&mut tree, extras, keys_asked);
            Ok(Reply::Done(tree))
        }
    }
}

/// Reads the body: the fast path when it starts with [`split::PREFIX`], else the general
/// streaming parser. Nodes go to the builder through `built`; the rest is the outcome.
/// [`Outcome::TooLarge`] once more than `max_held` bytes would be held (see [`MAX_HELD`]).
fn parse(
    mut rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    keyring: &Keyring,
    built: std::sync::mpsc::Sender<split::Built>,
    max_held: usize,
) -> std::result::Result<Outcome, ()> {
    let mut head = Vec::new();
    while head.len() < split::PREFIX.len() {
        match rx.blocking_recv() {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    if !head.starts_with(split::PREFIX) {
        let over = std::rc::Rc::new(Cell::new(false));
        let channel = ChannelReader { rx, current: head, pos: 0, read: 0, limit: max_held, over: over.clone() };
        let reader = BufReader::with_capacity(1 << 16, channel);
        let nodes = Nodes { built, seq: Cell::new(0) };
        let mut de = serde_json::Deserializer::from_reader(reader);
        let parsed = ResponseSeed { nodes: &nodes }.deserialize(&mut de).and_then(|o| de.end().map(|_| o));
        return if over.get() { Ok(Outcome::TooLarge) } else { parsed.map_err(|_| ()) };
    }
    let n = split::workers();
    let (batches, for_workers) = split::batch_channel(n);
    split::start_workers(n, keyring, for_workers, &built);
    let mut scanner = split::Scanner::new();
    // A send fails only when every worker is gone, and then the builder reports the gap.
    let mut emit = |b: split::Batch| drop(batches.send(b));
    scanner.push(&head[split::PREFIX.len()..], &mut emit)?;
    while let Some(chunk) = rx.blocking_recv() {
        scanner.push(&chunk, &mut emit)?;
        if scanner.held() > max_held {
            // Dropping the receiver stops the reading.
            return Ok(Outcome::TooLarge);
        }
    }
    scanner.finish(&mut emit)?;
    drop(batches);
    // What follows the nodes (`ok`, `ph`, `sn`, ...) is read by the general parser, after an
    // empty node array.
    let mut rest = br#"[{"f":[]"#.to_vec();
    rest.extend_from_slice(&scanner.tail);
    let nodes = Nodes { built, seq: Cell::new(scanner.batches()) };
    let mut de = serde_json::Deserializer::from_slice(&rest);
    ResponseSeed { nodes: &nodes }.deserialize(&mut de).and_then(|o| de.end().map(|_| o)).map_err(|_| ())
}

fn finish(tree: &mut Tree, extras: Extras, keys_asked: bool) {
    let mut learnt = false;
    for ok in &extras.ok {
        learnt |= tree.keyring.learn_outgoing(&ok.h, &ok.ha, &ok.k);
    }
    if learnt {
        tree.unseal();
    }
    // Every outgoing share, whether or not its key is known (a dummy `ok` from an official app).
    let shared = extras.ok.iter().map(|e| &e.h).chain(extras.s.iter().map(|e| &e.h));
    for h in shared.filter_map(|h| NodeHandle::from_b64(h).ok()) {
        tree.set_shared_out(h, true);
    }
    for e in extras.s.iter().filter(|e| !e.u.is_empty()) {
        if let Ok(h) = NodeHandle::from_b64(&e.h) {
            tree.add_sharee(h, &e.u);
        }
    }
    if let (true, Some(master), Some(user)) = (keys_asked, tree.keyring.master.clone(), tree.keyring.user) {
        tree.learn_key_manager(super::KeyManager::from_reply(extras.next.as_ref(), &master, user));
    }
    for e in &extras.ph {
        if let (Ok(h), Ok(ph)) = (NodeHandle::from_b64(&e.h), NodeHandle::from_b64(&e.ph)) {
            tree.set_public_handle(h, Some(ph));
        }
    }
    tree.set_sn(extras.sn.unwrap_or_default());
}

/// A `Read` over body chunks arriving through a channel, failing (and setting `over`) past
/// `limit` bytes.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    read: usize,
    limit: usize,
    over: std::rc::Rc<Cell<bool>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.blocking_recv() {
                Some(next) => {
                    self.read += next.len();
                    if self.read > self.limit {
                        self.over.set(true);
                        return Err(std::io::Error::other("the f reply is too large"));
                    }
                    self.current = next;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The whole body: `[ <f result> ]`, or a bare request-level error code.
struct ResponseSeed<'t> {
    nodes: &'t Nodes,
}

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = Outcome;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Outcome, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_> {
    type Value = Outcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of results or an error code")
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Outcome, E> {
        Ok(Outcome::RequestError(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Outcome, E> {
        Ok(Outcome::RequestError(v.min(i64::MAX as u64) as i64))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Outcome, A::Error> {
        let mut first = seq
            .next_element_seed(ResultSeed { nodes: self.nodes })?
            .ok_or_else(|| serde::de::Error::custom("empty reply"))?;
        let next = seq.next_element::<serde_json::Value>()?;
        if let Outcome::Parsed(extras) = &mut first {
            extras.next = next;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Outcome, A::Error> {
        ResultSeed { nodes: self.nodes }.visit_map(map)
    }
}

/// The `f` result: an object with `f`, `ok`, `ph`, `sn`, ..., or a command error code.
struct ResultSeed<'t> {
    nodes: &'t Nodes,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = Outcome;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Outcome, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = Outcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the f result object or an error code")
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Outcome, E> {
        Ok(Outcome::CommandError(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Outcome, E> {
        Ok(Outcome::CommandError(v.min(i64::MAX as u64) as i64))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Outcome, A::Error> {
        let mut extras = Extras::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "f" => map.next_value_seed(NodesSeed { nodes: self.nodes })?,
                "ok" => extras.ok = entries(map.next_value()?, "ok"),
                "ph" => extras.ph = entries(map.next_value()?, "ph"),
                // Read leniently: a list of another shape only hides which folders are shared.
                "s" => extras.s = entries(map.next_value::<serde_json::Value>()?.as_array().cloned(), "s"),
                "sn" => extras.sn = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Outcome::Parsed(extras))
    }
}

/// The entries of an `ok` or `ph` list; one of the wrong shape is skipped with a warning.
fn entries<T: serde::de::DeserializeOwned>(list: Option<Vec<serde_json::Value>>, what: &str) -> Vec<T> {
    let read = |v| serde_json::from_value(v).map_err(|e| tracing::warn!(list = what, "entry skipped: {e}")).ok();
    list.unwrap_or_default().into_iter().filter_map(read).collect()
}

/// The node array: each node decrypted into the tree as soon as it is read.
struct NodesSeed<'t> {
    nodes: &'t Nodes,
}

impl<'de> DeserializeSeed<'de> for NodesSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of nodes")
    }

    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(raw) = seq.next_element::<RawNode>()? {
            batch.push(split::Item::Raw(raw));
            if batch.len() == BATCH {
                self.nodes.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
            }
        }
        if !batch.is_empty() {
            self.nodes.send(batch)?;
        }
        Ok(())
    }
}

/// Where the general parser sends its batches of raw nodes, numbered for the builder.
struct Nodes {
    built: std::sync::mpsc::Sender<split::Built>,
    seq: Cell<u64>,
}

impl Nodes {
    fn send<E: serde::de::Error>(&self, items: Vec<split::Item>) -> std::result::Result<(), E> {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        // The builder only goes away when the whole fetch is abandoned.
        self.built.send((seq, Ok(items))).map_err(|_| E::custom("tree builder gone"))
    }
}

/// Opens one raw node into the tree, in wire order.
fn add_node(tree: &mut Tree, raw: &RawNode) {
    if let Some((h, _)) = tree.add_raw(raw) {
        let own = tree.keyring.link_key.is_some()
            && raw
                .k
                .as_deref()
                .is_some_and(|k| k.split('/').any(|e| e.split_once(':').is_some_and(|(o, _)| o == raw.h)));
        link_root(tree, (h, own));
    }
}

/// In a folder link, the root is the first node keyed by its own handle, or whose parent is
/// not in the tree (spec §7.4).
fn link_root(tree: &mut Tree, (h, own_key): (NodeHandle, bool)) {
    if tree.keyring.link_key.is_none() || tree.root().is_some() {
        return;
    }
    if own_key || tree.get(h).and_then(|n| n.parent()).is_none_or(|p| tree.get(p).is_none()) {
        tree.set_link_root(Some(h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse` fed `chunks` with a limit of `max_held` bytes; the receiving end of the nodes is
    /// dropped at the end.
    fn parse_chunks(chunks: Vec<Vec<u8>>, max_held: usize) -> std::result::Result<Outcome, ()> {
        let (tx, rx) = tokio::sync::mpsc::channel(chunks.len().max(1));
        for c in chunks {
            tx.try_send(c).unwrap();
        }
        drop(tx);
        let (built, _nodes) = std::sync::mpsc::channel();
        parse(rx, &Keyring::default(), built, max_held)
    }

    #[test]
    fn a_reply_that_would_be_held_past_the_limit_is_too_large() {
        let big = |open: &[u8]| {
            let mut v = open.to_vec();
            v.resize(10_000, b'a');
            vec![v[..5_000].to_vec(), v[5_000..].to_vec()]
        };
        // The service's shape: a node object that never ends, and a tail that never ends.
        assert!(matches!(parse_chunks(big(br#"[{"f":[{"a":""#), 4_096), Ok(Outcome::TooLarge)));
        assert!(matches!(parse_chunks(big(br#"[{"f":[],"x":""#), 4_096), Ok(Outcome::TooLarge)));
        // Another shape goes through the general parser: a string that never ends.
        assert!(matches!(parse_chunks(big(br#"[ {"f":[{"a":""#), 4_096), Ok(Outcome::TooLarge)));
        // Under the limit, the same shapes are read (and found incomplete, or whole).
        assert!(matches!(parse_chunks(big(br#"[{"f":[{"a":""#), 20_000), Err(())));
        let whole = br#"[{"f":[],"sn":"abc"}]"#.to_vec();
        assert!(
            matches!(parse_chunks(vec![whole.clone()], 4_096), Ok(Outcome::Parsed(e)) if e.sn.as_deref() == Some("abc"))
        );
        let mut spaced = b"[ ".to_vec();
        spaced.extend_from_slice(&whole[1..]);
        assert!(matches!(parse_chunks(vec![spaced], 4_096), Ok(Outcome::Parsed(_))));
    }
}
