//! One malformed node in a reply (issue 21, 8b): a hostile server in front of mega-testserver
//! rewrites fields of chosen nodes in the `f` reply and in `t` action packets (a negative or text
//! size, a text type, a number for a key field, an object for the attributes, a node that is not
//! an object, a node that is not JSON). Only those nodes are left out, each with a warning naming
//! its handle; every other node is in the tree, on the fast and the general parse path alike.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::Router;
use mega_api::{Client, Session, Tree};
use mega_proto::NodeHandle;
use mega_testserver::TestServer;
use serde_json::{json, Value};

use crate::support::{logged_in, policy, sync_until, EMAIL, PASSWORD};

/// What the hostile server does to the replies passing through it.
#[derive(Default)]
struct Rewrite {
    /// In the `f` reply: node handle -> (field, value to put there).
    nodes: HashMap<String, (&'static str, Value)>,
    /// Handles to replace by something that is not a node object.
    not_objects: Vec<String>,
    /// Handles whose node is made invalid JSON: a doubled comma, a byte that is not UTF-8.
    not_json: Vec<String>,
    /// Put the node array after `ok`/`sn` (so the client takes its general parse path).
    nodes_last: bool,
    /// In every `t` action packet of two nodes or more, make the second one's size text.
    packets: bool,
    /// The handles the packet rewrite spoilt, and those it left alone.
    spoilt: Vec<String>,
    spared: Vec<String>,
}

type Shared = Arc<Mutex<Rewrite>>;

/// A proxy on 127.0.0.1:0 that forwards everything to `upstream` and rewrites the `f` reply and
/// the `sc` packets as `rewrite` says. Returns its base URL (with the trailing `/`).
async fn hostile(upstream: &str, rewrite: Shared) -> String {
    let upstream = upstream.to_string();
    let http = reqwest::Client::new();
    let app = Router::new().fallback(move |State(rw): State<Shared>, method: Method, uri: Uri, body: Bytes| {
        let (upstream, http) = (upstream.clone(), http.clone());
        async move {
            let path = uri.path_and_query().map_or("/", |p| p.as_str()).trim_start_matches('/');
            let is_f = serde_json::from_slice::<Value>(&body)
                .ok()
                .is_some_and(|v| v.get(0).and_then(|c| c.get("a")) == Some(&json!("f")));
            let resp = http.request(method, format!("{upstream}{path}")).body(body).send().await;
            let Ok(resp) = resp else { return (StatusCode::BAD_GATEWAY, Vec::new()) };
            let status = resp.status();
            let bytes = resp.bytes().await.unwrap_or_default().to_vec();
            let mut rw = rw.lock().unwrap();
            let rewritten = match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) if is_f => rewrite_f(v, &rw),
                Ok(v) if path.starts_with("sc") => rewrite_packets(v, &mut rw),
                _ => bytes,
            };
            (StatusCode::from_u16(status.as_u16()).unwrap(), rewritten)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.with_state(rewrite)).await });
    url
}

fn rewrite_f(mut v: Value, rw: &Rewrite) -> Vec<u8> {
    let Some(reply) = v.get_mut(0).and_then(Value::as_object_mut) else { return serde_json::to_vec(&v).unwrap() };
    if let Some(nodes) = reply.get_mut("f").and_then(Value::as_array_mut) {
        for n in nodes.iter_mut() {
            let h = n["h"].as_str().unwrap_or_default().to_string();
            if let Some((field, bad)) = rw.nodes.get(&h) {
                n[*field] = bad.clone();
            }
            if rw.not_objects.contains(&h) {
                *n = json!(["not", "a", "node", h]);
            }
        }
    }
    // Entries of the wrong shape in the lists that follow the nodes.
    reply["ok"].as_array_mut().unwrap().push(json!({"h": 5, "ha": [], "k": null}));
    reply["ph"] = json!([{"h": {"x": 1}, "ph": 7}]);
    if rw.nodes_last {
        let nodes = reply.shift_remove("f").unwrap();
        reply.insert("f".into(), nodes);
    }
    let mut body = serde_json::to_vec(&v).unwrap();
    for (i, h) in rw.not_json.iter().enumerate() {
        let at = |body: &[u8], s: &str| body.windows(s.len()).position(|w| w == s.as_bytes()).unwrap() + s.len();
        let after = at(&body, &format!(r#"{{"h":"{h}","#));
        if i % 2 == 0 {
            body.insert(after, b',');
        } else {
            let a = after + at(&body[after..], r#""a":""#);
            body[a] = 0xff;
        }
    }
    body
}

fn rewrite_packets(mut v: Value, rw: &mut Rewrite) -> Vec<u8> {
    if rw.packets {
        for p in v.get_mut("a").and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(nodes) = p.pointer_mut("/t/f").and_then(Value::as_array_mut) else { continue };
            if nodes.len() < 2 {
                continue;
            }
            for (i, n) in nodes.iter_mut().enumerate() {
                let h = n["h"].as_str().unwrap_or_default().to_string();
                if i == 1 {
                    n["s"] = json!("1024");
                    rw.spoilt.push(h);
                } else {
                    rw.spared.push(h);
                }
            }
        }
    }
    serde_json::to_vec(&v).unwrap()
}

/// Every warning logged in this process (all the tests of this module log into it).
fn warnings() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        log
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A warning that a node was left out names `handle` and `field`.
fn logged(handle: &str, field: &str) -> bool {
    String::from_utf8_lossy(&warnings().lock().unwrap()).lines().any(|l| {
        l.contains("WARN")
            && l.contains("node left out")
            && l.contains(&format!("handle={handle} "))
            && l.contains(&format!("field=\"{field}\""))
    })
}

async fn through(proxy: &str) -> Session {
    let c = Client::builder().api_url(proxy).retry(policy()).build().unwrap();
    c.login(EMAIL, PASSWORD).await.unwrap().session().unwrap()
}

/// A drive of folders and files, and the handles of the nodes to spoil, each with its field.
fn seed(server: &TestServer) -> Vec<(NodeHandle, &'static str, Value)> {
    for (i, p) in ["/docs/a.txt", "/docs/b.txt", "/docs/c.txt", "/docs/d.txt", "/docs/sub/e.txt", "/f.txt", "/f2.txt"]
        .iter()
        .enumerate()
    {
        server.seed_bytes(EMAIL, p, &vec![b'x'; 10 + i], 1_700_000_000).unwrap();
    }
    server.seed_folder(EMAIL, "/docs/other").unwrap();
    let h = |p: &str| server.find(EMAIL, p).unwrap();
    vec![
        (h("/docs/b.txt"), "s", json!(-5)),
        (h("/docs/c.txt"), "s", json!("12")),
        (h("/docs/sub"), "t", json!("1")),
        (h("/docs/other"), "k", json!(7)),
        (h("/f.txt"), "a", json!({"n": "f.txt"})),
    ]
}

async fn one_malformed_field_leaves_out_only_its_node(nodes_last: bool) {
    warnings();
    let (server, direct) = logged_in().await;
    let bad = seed(&server);
    let whole = direct.fetch_tree().await.unwrap();
    let mut rw = Rewrite { nodes_last, ..Rewrite::default() };
    rw.nodes = bad.iter().map(|(h, f, v)| (h.to_b64(), (*f, v.clone()))).collect();
    let mut left_out: Vec<NodeHandle> = bad.iter().map(|(h, ..)| *h).collect();
    // Something that is not a node object in the node array.
    let not_an_object = server.find(EMAIL, "/docs/d.txt").unwrap();
    rw.not_objects.push(not_an_object.to_b64());
    left_out.push(not_an_object);
    // Nodes that are not JSON: the fast path cuts the array into elements first, so only they
    // are lost (a general JSON parser cannot read on past them).
    let mut not_json = Vec::new();
    if !nodes_last {
        not_json = vec![server.find(EMAIL, "/docs/a.txt").unwrap(), server.find(EMAIL, "/docs/sub/e.txt").unwrap()];
        rw.not_json = not_json.iter().map(|h| h.to_b64()).collect();
        left_out.extend(&not_json);
    }
    let proxy = hostile(server.url(), Arc::new(Mutex::new(rw))).await;
    let session = through(&proxy).await;

    let tree = session.fetch_tree().await.expect("the drive opens despite the malformed nodes");
    for n in whole.nodes() {
        let h = n.handle();
        if left_out.contains(&h) {
            assert!(tree.get(h).is_none(), "{:?} is malformed and still in the tree", whole.path(h));
        } else {
            let got = tree.get(h).unwrap_or_else(|| panic!("{:?} was lost", whole.path(h)));
            assert_eq!((got.name(), got.size(), got.is_decrypted()), (n.name(), n.size(), true));
        }
    }
    assert_eq!(tree.len(), whole.len() - left_out.len());
    assert_eq!(tree.resolve("/f2.txt").map(|h| tree.get(h).unwrap().size()), Some(16));
    if nodes_last {
        // A child of a left-out folder is kept, outside the drive's paths (as an orphan is).
        let e = server.find(EMAIL, "/docs/sub/e.txt").unwrap();
        assert!(tree.get(e).is_some() && tree.resolve("/docs/sub/e.txt").is_none());
    }
    for (h, field, _) in &bad {
        assert!(logged(&h.to_b64(), field), "no warning names {h} and its field {field}");
    }
    for h in &not_json {
        assert!(logged(&h.to_b64(), "node"), "no warning names {h}, which is not JSON");
    }
    // What is not an object has no handle to name.
    assert!(logged("(none)", "node"));
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_node_in_the_f_reply_leaves_out_that_node_only() {
    one_malformed_field_leaves_out_only_its_node(false).await;
}

#[tokio::test]
async fn a_malformed_node_on_the_general_parse_path_leaves_out_that_node_only() {
    one_malformed_field_leaves_out_only_its_node(true).await;
}

#[tokio::test]
async fn a_malformed_node_in_an_action_packet_leaves_out_that_node_only() {
    warnings();
    let (server, direct) = logged_in().await;
    server.seed_bytes(EMAIL, "/src/one.txt", b"one", 1).unwrap();
    server.seed_bytes(EMAIL, "/src/two.txt", b"two!", 2).unwrap();
    server.seed_bytes(EMAIL, "/src/three.txt", b"three", 3).unwrap();
    let rw: Shared = Arc::new(Mutex::new(Rewrite { packets: true, ..Rewrite::default() }));
    let proxy = hostile(server.url(), rw.clone()).await;
    let watcher = through(&proxy).await;
    let mut watched: Tree = watcher.fetch_tree().await.unwrap();

    // The copy of a folder of three files arrives as one `t` packet of four nodes.
    let mut tree = direct.fetch_tree().await.unwrap();
    let (src, root) = (tree.resolve("/src").unwrap(), tree.root().unwrap());
    let copy = direct.copy(&mut tree, src, root, Some("dst")).await.unwrap();
    sync_until(&watcher, &mut watched, "the copied folder", |t| t.get(copy).is_some()).await;
    // Later packets still apply.
    let after = direct.mkdir(&mut tree, root, "after").await.unwrap();
    sync_until(&watcher, &mut watched, "the next packet", |t| t.get(after).is_some()).await;

    let (spoilt, spared) = {
        let rw = rw.lock().unwrap();
        (rw.spoilt.clone(), rw.spared.clone())
    };
    assert_eq!(spoilt.len(), 1, "one packet of several nodes");
    let bad = NodeHandle::from_b64(&spoilt[0]).unwrap();
    assert!(watched.get(bad).is_none(), "the malformed node was applied");
    assert_eq!(spared.len(), 3);
    for h in &spared {
        let h = NodeHandle::from_b64(h).unwrap();
        assert!(watched.get(h).is_some_and(|n| n.is_decrypted()), "{:?} was lost", tree.path(h));
    }
    let names: Vec<&str> = watched.children(copy).map(|n| n.name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(logged(&spoilt[0], "s"), "no warning names the malformed node");
    server.stop().await;
}
