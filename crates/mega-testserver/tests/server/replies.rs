//! Every reply the server gives, walked command by command, against the fields the service
//! always sends and their JSON types (spec §2 to §7): clients that read replies into strict
//! structures (serde structs, Python dict lookups, go structs) fail on a field left out, and
//! on a number where the service sends a string.

use crate::client::Client;
use mega_proto::attr::Attributes;
use mega_proto::{b64, Key128};
use mega_testserver::support::{self, content};
use mega_testserver::Version;
use serde_json::{json, Value};

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// Any string, empty included.
    Str,
    /// A string of exactly this many characters.
    Len(usize),
    /// An integer.
    Int,
    /// Any number.
    Num,
    /// An array.
    Arr,
    /// An object.
    Obj,
}

/// Checks that `v` is an object with each field of `fields` present and of its type.
fn has(what: &str, v: &Value, fields: &[(&str, Ty)]) {
    assert!(v.is_object(), "{what}: not an object: {v}");
    for (name, ty) in fields {
        let f = v.get(*name).unwrap_or_else(|| panic!("{what}: no `{name}` in {v}"));
        let ok = match ty {
            Ty::Str => f.is_string(),
            Ty::Len(n) => f.as_str().is_some_and(|s| s.len() == *n),
            Ty::Int => f.is_i64() || f.is_u64(),
            Ty::Num => f.is_number(),
            Ty::Arr => f.is_array(),
            Ty::Obj => f.is_object(),
        };
        assert!(ok, "{what}: `{name}` is not {ty:?}: {f}");
    }
}

/// A node as `f`, `p` and `t` packets show it (spec §3.1): `h`, `p`, `u`, `t`, `a`, `k`, `ts`
/// on every node, roots included (their `p`, `a` and `k` empty strings); `s` on files.
fn node(what: &str, n: &Value) {
    has(what, n, &[("h", Ty::Len(8)), ("p", Ty::Str), ("u", Ty::Len(11)), ("t", Ty::Int)]);
    has(what, n, &[("a", Ty::Str), ("k", Ty::Str), ("ts", Ty::Int)]);
    let t = n["t"].as_u64().unwrap();
    let p = n["p"].as_str().unwrap();
    if t >= 2 {
        assert_eq!((p, n["a"].as_str(), n["k"].as_str()), ("", Some(""), Some("")), "{what}: a root: {n}");
    } else {
        assert_eq!(p.len(), 8, "{what}: a parent handle: {n}");
    }
    if t == 0 {
        has(what, n, &[("s", Ty::Int)]);
    }
    if let Some(fa) = n.get("fa") {
        assert!(fa.is_string(), "{what}: `fa` {fa}");
    }
}

/// An `f` reply: the arrays every client reads, each entry with its fields.
fn tree(what: &str, f: &Value) {
    has(what, f, &[("f", Ty::Arr), ("ok", Ty::Arr), ("s", Ty::Arr), ("u", Ty::Arr), ("sn", Ty::Len(11))]);
    has(what, f, &[("ipc", Ty::Arr), ("opc", Ty::Arr), ("ps", Ty::Arr)]);
    for n in f["f"].as_array().unwrap() {
        node(what, n);
        if n.get("su").is_some() {
            has(&format!("{what}: an incoming share"), n, &[("su", Ty::Len(11)), ("r", Ty::Int), ("sts", Ty::Int)]);
        }
    }
    for ok in f["ok"].as_array().unwrap() {
        has(&format!("{what}: ok"), ok, &[("h", Ty::Len(8)), ("ha", Ty::Len(22)), ("k", Ty::Len(22))]);
    }
    for s in f["s"].as_array().unwrap() {
        has(&format!("{what}: s"), s, &[("h", Ty::Len(8)), ("u", Ty::Str), ("r", Ty::Int), ("ts", Ty::Int)]);
    }
    for u in f["u"].as_array().unwrap() {
        has(&format!("{what}: u"), u, &[("u", Ty::Len(11)), ("c", Ty::Int), ("m", Ty::Str), ("ts", Ty::Int)]);
    }
    for ph in f.get("ph").and_then(Value::as_array).into_iter().flatten() {
        has(&format!("{what}: ph"), ph, &[("h", Ty::Len(8)), ("ph", Ty::Len(8)), ("ts", Ty::Int)]);
    }
}

/// An action packet, by its kind (spec §6.6).
fn packet(p: &Value) {
    let kind = p["a"].as_str().unwrap_or_else(|| panic!("a packet without `a`: {p}"));
    let what = format!("packet {kind}");
    match kind {
        "t" => {
            has(&what, p, &[("t", Ty::Obj), ("ou", Ty::Len(11))]);
            p["t"]["f"].as_array().unwrap().iter().for_each(|n| node(&what, n));
        }
        "u" => has(&what, p, &[("n", Ty::Len(8)), ("u", Ty::Len(11)), ("at", Ty::Str), ("ts", Ty::Int)]),
        "d" => has(&what, p, &[("n", Ty::Len(8)), ("ou", Ty::Len(11))]),
        "ph" => {
            // The SDK ignores one without `d` (removed) or `n` (new) and, unless removed, `ts`.
            has(&what, p, &[("h", Ty::Len(8)), ("ph", Ty::Len(8))]);
            if p.get("d").is_none() {
                has(&what, p, &[("n", Ty::Int), ("ts", Ty::Int)]);
            }
        }
        "fa" => has(&what, p, &[("n", Ty::Len(8)), ("fa", Ty::Str)]),
        "ua" => has(&what, p, &[("u", Ty::Len(11)), ("ua", Ty::Arr), ("v", Ty::Arr)]),
        "s2" => {
            has(&what, p, &[("n", Ty::Len(8)), ("o", Ty::Len(11)), ("u", Ty::Str), ("ts", Ty::Int)]);
            if p.get("r").is_some() {
                has(&what, p, &[("r", Ty::Int)]);
            }
        }
        other => panic!("a packet of a kind this walk does not know: {other}: {p}"),
    }
}

#[tokio::test]
async fn every_reply_carries_the_fields_the_service_always_sends() {
    let server = support::server()
        .account("a@example.com", "pw", Version::V2)
        .account("old@example.com", "pw", Version::V1)
        .account("friend@example.com", "pw", Version::V2)
        .start()
        .await;
    server.seed_bytes("friend@example.com", "/Shared/in.bin", b"shared", 1).unwrap();
    server.share_folder("friend@example.com", "/Shared", "a@example.com", 1).unwrap();
    let mut c = Client::new(server.url());

    // Prelogin and login, both account versions; a session resumed.
    has("us0 v2", &c.cmd(json!({"a": "us0", "user": "a@example.com"})).await, &[("v", Ty::Int), ("s", Ty::Len(43))]);
    has("us0 v1", &c.cmd(json!({"a": "us0", "user": "old@example.com"})).await, &[("v", Ty::Int)]);
    let mut old = Client::new(server.url());
    old.login("old@example.com", "pw").await.unwrap();
    let ug = old.cmd(json!({"a": "ug"})).await;
    assert_eq!(ug["aav"], 1, "{ug}");
    c.login("a@example.com", "pw").await.unwrap();
    let resumed = c.cmd(json!({"a": "us", "sek": "AAAAAAAAAAAAAAAAAAAAAA"})).await;
    let session = [("u", Ty::Len(11)), ("k", Ty::Len(22)), ("privk", Ty::Str), ("ach", Ty::Int), ("sek", Ty::Str)];
    has("us (resume)", &resumed, &session);

    let ug = c.cmd(json!({"a": "ug"})).await;
    has("ug", &ug, &[("u", Ty::Len(11)), ("email", Ty::Str), ("name", Ty::Str), ("k", Ty::Len(22))]);
    has("ug", &ug, &[("privk", Ty::Str), ("pubk", Ty::Str), ("ts", Ty::Len(43)), ("c", Ty::Int), ("s", Ty::Int)]);
    has("ug", &ug, &[("since", Ty::Int), ("aav", Ty::Int), ("aas", Ty::Len(43)), ("flags", Ty::Obj)]);
    assert_eq!(ug["aav"], 2);
    has("ug", &ug, &[("^!keys", Ty::Str), ("+puEd255", Ty::Len(43)), ("+puCu255", Ty::Len(43))]);
    let ug = c.cmd(json!({"a": "ug", "v": 1})).await;
    has("ug v:1: ^!keys", &ug["^!keys"], &[("av", Ty::Str), ("v", Ty::Len(11))]);

    let uq = c.cmd(json!({"a": "uq", "strg": 1, "xfer": 1, "pro": 1})).await;
    has("uq", &uq, &[("mstrg", Ty::Int), ("cstrg", Ty::Int), ("cstrgn", Ty::Obj), ("mxfer", Ty::Int)]);
    has("uq", &uq, &[("caxfer", Ty::Int), ("csxfer", Ty::Int), ("srvratio", Ty::Num), ("utype", Ty::Int)]);
    for (root, usage) in uq["cstrgn"].as_object().unwrap() {
        let usage = usage.as_array().unwrap();
        assert!(root.len() == 8 && usage.len() == 5 && usage.iter().all(Value::is_u64), "cstrgn: {uq}");
    }
    has("uk", &c.cmd(json!({"a": "uk", "u": "friend@example.com"})).await, &[("u", Ty::Len(11)), ("pubk", Ty::Str)]);

    // The tree of a new account: three roots with every field, and the incoming share.
    let f = c.tree().await;
    tree("f", &f);
    let sn = f["sn"].as_str().unwrap().to_string();
    let roots = f["f"].as_array().unwrap().iter().filter(|n| n["t"].as_u64() >= Some(2)).count();
    assert_eq!(roots, 3, "{f}");
    let share_root = f["f"].as_array().unwrap().iter().find(|n| n.get("su").is_some()).unwrap();
    has("an incoming share (legacy)", share_root, &[("sk", Ty::Len(22))]);

    // Node commands; each reply, and the packets they leave.
    let root = c.root(2).await;
    let mk = c.mkdir(&root, "Docs").await;
    has("p (folder)", &mk, &[("f", Ty::Arr)]);
    node("p (folder)", &mk["f"][0]);
    let docs = mk["f"][0]["h"].as_str().unwrap().to_string();
    has("u", &c.cmd(json!({"a": "u", "s": 5, "ssl": 0})).await, &[("p", Ty::Str)]);
    let (up, fk) = c.upload(&docs, "a.bin", &content(1000, 1)).await;
    node("p (file)", &up["f"][0]);
    let file = up["f"][0]["h"].as_str().unwrap().to_string();
    let g = c.cmd(json!({"a": "g", "g": 1, "n": file, "ssl": 0})).await;
    has("g", &g, &[("g", Ty::Str), ("s", Ty::Int), ("at", Ty::Str), ("msd", Ty::Int)]);
    has("g (no url)", &c.cmd(json!({"a": "g", "n": file})).await, &[("s", Ty::Int), ("at", Ty::Str)]);
    let at = Attributes::with_name("b.bin").encrypt_b64(&fk.attr_key());
    assert_eq!(c.cmd(json!({"a": "a", "n": file, "at": at, "i": "abcdefghij"})).await, json!(0));
    assert_eq!(c.cmd(json!({"a": "m", "n": file, "t": root, "i": "abcdefghij"})).await, json!(0));
    let ph = c.cmd(json!({"a": "l", "n": file})).await;
    assert_eq!(ph.as_str().map(str::len), Some(8), "l: {ph}");
    has("g (link)", &c.cmd(json!({"a": "g", "p": ph})).await, &[("s", Ty::Int), ("at", Ty::Str)]);
    let ufa = c.cmd(json!({"a": "ufa", "s": 16, "ssl": 0})).await;
    has("ufa", &ufa, &[("p", Ty::Str)]);
    let fah = c.http.post(ufa["p"].as_str().unwrap()).body(vec![0u8; 16]).send().await.unwrap().bytes().await.unwrap();
    let fa = c.cmd(json!({"a": "pfa", "n": file, "fa": format!("0*{}", b64::encode(&fah))})).await;
    assert!(fa.is_string(), "pfa: {fa}");
    has("ufa (get)", &c.cmd(json!({"a": "ufa", "fah": b64::encode(&fah), "ssl": 0, "r": 1})).await, &[("p", Ty::Str)]);

    // A folder exported as the web client does.
    assert_eq!(c.export_s2(&docs, &Key128::new([0x5a; 16]), None).await, json!(0));
    let folder_ph = c.cmd(json!({"a": "l", "n": docs})).await.as_str().unwrap().to_string();

    // User attributes.
    let upv = c.cmd(json!({"a": "upv", "*!walk": ["AAEC", ""]})).await;
    has("upv", &upv, &[("*!walk", Ty::Len(11))]);
    has("uga", &c.cmd(json!({"a": "uga", "ua": "*!walk", "v": 1})).await, &[("av", Ty::Str), ("v", Ty::Len(11))]);
    assert_eq!(c.cmd(json!({"a": "k", "nk": []})).await, json!(0));
    assert_eq!(c.cmd(json!({"a": "log", "e": 99999})).await, json!(0));

    // The tree again, with a folder, a file with a thumbnail, an export and a link; then the
    // packets of all of the above.
    tree("f (after changes)", &c.tree().await);
    let sc = c.sc(&sn).await;
    has("sc", &sc, &[("a", Ty::Arr), ("sn", Ty::Len(11))]);
    let kinds: Vec<&str> = sc["a"].as_array().unwrap().iter().map(|p| p["a"].as_str().unwrap_or("")).collect();
    for k in ["t", "u", "d", "ph", "fa", "s2", "ua"] {
        assert!(kinds.contains(&k), "a `{k}` packet among {kinds:?}");
    }
    sc["a"].as_array().unwrap().iter().for_each(packet);
    has("sc (nothing new)", &c.sc(sc["sn"].as_str().unwrap()).await, &[("w", Ty::Str), ("sn", Ty::Len(11))]);

    // Inside the folder link: the same shapes, the root's parent a string.
    let http = reqwest::Client::new();
    let url = format!("{}cs?id=1&n={folder_ph}", server.url());
    let body = json!([{"a": "f", "c": 1, "ca": 1, "r": 1}]).to_string();
    let listing: Value = http.post(url).body(body).send().await.unwrap().json().await.unwrap();
    tree("f (folder link)", &listing[0]);

    // Withdrawn: an `s2` packet without `r`; then the delete and the logout.
    let sn = c.tree().await["sn"].as_str().unwrap().to_string();
    assert_eq!(c.cmd(json!({"a": "s2", "n": docs, "s": [{"u": "EXP", "r": ""}]})).await, json!(0));
    assert_eq!(c.cmd(json!({"a": "l", "n": docs, "d": 1})).await, json!(0));
    assert_eq!(c.cmd(json!({"a": "d", "n": docs, "i": "abcdefghij"})).await, json!(0));
    let sc = c.sc(&sn).await;
    sc["a"].as_array().unwrap().iter().for_each(packet);
    let s2 = sc["a"].as_array().unwrap().iter().find(|p| p["a"] == "s2").unwrap();
    assert!(s2.get("r").is_none(), "a withdrawn share has no `r`: {s2}");
    assert!(sc["a"].as_array().unwrap().iter().any(|p| p["a"] == "ph" && p["d"] == 1), "{sc}");
    assert_eq!(c.cmd(json!({"a": "sml"})).await, json!(0));
    server.stop().await;
}
