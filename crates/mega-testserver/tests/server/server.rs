//! The server against a minimal client built from `mega-proto` and raw HTTP: logins, the node
//! tree, chunked uploads, ranged downloads verified by MAC, links, events and bad input.

use crate::client::{self, Client};
use mega_proto::attr::Attributes;
use mega_proto::content::ContentCipher;
use mega_proto::{b64, chunks, Key128};
use mega_testserver::support::{self, content};
use mega_testserver::{TestServer, Version};
use serde_json::{json, Value};

/// A server with one account, `a@example.com` / `pw`, and a client logged in to it.
async fn logged_in() -> (TestServer, Client) {
    let server = support::server().account("a@example.com", "pw", Version::V2).start().await;
    let mut c = Client::new(server.url());
    c.login("a@example.com", "pw").await.unwrap();
    (server, c)
}

#[tokio::test]
async fn v1_and_v2_logins_and_logout() {
    let server = TestServer::start().await.unwrap();
    server.add_user("Alice@Example.com", "alice pw", Version::V2).unwrap();
    server.add_user("bob@example.com", "bobs-password", Version::V1).unwrap();
    let mut c = Client::new(server.url());
    let alice = c.login("alice@example.com", "alice pw").await.unwrap();
    let ug = c.cmd(json!({"a": "ug"})).await;
    assert_eq!(ug["u"], alice.to_b64());
    assert_eq!(ug["email"], "alice@example.com");
    let f = c.tree().await;
    let types: Vec<u64> = f["f"].as_array().unwrap().iter().map(|n| n["t"].as_u64().unwrap()).collect();
    assert_eq!(types, vec![2, 3, 4]);
    assert_eq!(f["ok"], json!([]));
    assert!(f["sn"].as_str().unwrap().len() == 11);
    assert_eq!(c.cmd(json!({"a": "sml"})).await, json!(0));
    assert_eq!(c.raw(json!([{"a": "ug"}]).to_string()).await, json!(-15), "a logged-out sid is gone");

    let mut b = Client::new(server.url());
    b.login("bob@example.com", "bobs-password").await.unwrap();
    let mut wrong = Client::new(server.url());
    assert_eq!(wrong.login("bob@example.com", "nope").await, Err(-9));
    assert_eq!(wrong.login("alice@example.com", "alice pwx").await, Err(-9));
    assert_eq!(wrong.login("nobody@example.com", "x").await, Err(-9));
    server.stop().await;
}

#[tokio::test]
async fn upload_download_verify_and_node_operations() {
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let rubbish = c.root(4).await;
    let dir = c.mkdir(&root, "Docs").await;
    let dir_h = dir["f"][0]["h"].as_str().unwrap().to_string();
    assert_eq!(dir["f"][0]["p"], root.as_str());

    for size in [0usize, 1, 131_072, 131_073, 1_500_000] {
        let data = content(size, 0);
        let (v, fk) = c.upload(&dir_h, &format!("f{size}.bin"), &data).await;
        let node = &v["f"][0];
        assert_eq!(node["s"], size, "size {size}");
        let h = node["h"].as_str().unwrap();
        let g = c.cmd(json!({"a": "g", "g": 1, "n": h})).await;
        assert_eq!(g["s"], size);
        let attrs = Attributes::decrypt_b64(g["at"].as_str().unwrap(), &fk.attr_key()).unwrap();
        assert_eq!(attrs.name(), Some(format!("f{size}.bin").as_str()));
        // Whole file, then chunk by chunk with inclusive ranges; both verify.
        let url = g["g"].as_str().unwrap();
        let whole = c.fetch(url).await.bytes().await.unwrap().to_vec();
        let cipher = ContentCipher::new(&fk);
        let mut plain = whole.clone();
        let macs = cipher.decrypt_file(&mut plain);
        assert_eq!(plain, data);
        assert_eq!(cipher.meta_mac(&macs), fk.meta_mac);
        let mut pieces = Vec::new();
        for r in chunks::chunks(size as u64) {
            let body = c.fetch(&format!("{url}/{}-{}", r.start, r.end - 1)).await.bytes().await.unwrap();
            pieces.extend_from_slice(&body);
        }
        assert_eq!(pieces, whole);
    }

    // Rename, move, circular move, export, delete.
    let sub = c.mkdir(&dir_h, "Sub").await["f"][0]["h"].as_str().unwrap().to_string();
    let at = Attributes::with_name("Documents").encrypt_b64(&Key128::new([9; 16]));
    assert_eq!(c.cmd(json!({"a": "a", "n": dir_h, "at": at})).await, json!(0));
    assert_eq!(c.cmd(json!({"a": "m", "n": dir_h, "t": sub})).await, json!(-10));
    assert_eq!(c.cmd(json!({"a": "m", "n": sub, "t": rubbish})).await, json!(0));
    let (v, fk) = c.upload(&root, "shared.txt", b"hello links").await;
    let h = v["f"][0]["h"].as_str().unwrap().to_string();
    let ph = c.cmd(json!({"a": "l", "n": h})).await;
    assert_eq!(c.cmd(json!({"a": "l", "n": h})).await, ph, "the same handle again");
    let mut anon = Client::new(server.url());
    let g = anon.cmd(json!({"a": "g", "g": 1, "p": ph})).await;
    let mut body = anon.fetch(g["g"].as_str().unwrap()).await.bytes().await.unwrap().to_vec();
    ContentCipher::new(&fk).apply_ctr(0, &mut body);
    assert_eq!(body, b"hello links");
    assert_eq!(c.cmd(json!({"a": "l", "n": h, "d": 1})).await, json!(0));
    assert_eq!(anon.cmd(json!({"a": "g", "p": ph})).await, json!(-9), "a removed link is gone");
    assert_eq!(c.cmd(json!({"a": "d", "n": dir_h})).await, json!(0));
    let f = c.tree().await;
    assert!(!f["f"].as_array().unwrap().iter().any(|n| n["h"] == dir_h.as_str()));
    let uq = c.cmd(json!({"a": "uq", "strg": 1, "xfer": 1})).await;
    assert_eq!(uq["cstrg"], 11, "only shared.txt is left");
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_the_protocol_codes() {
    let server = TestServer::start().await.unwrap();
    server.add_user("a@example.com", "pw", Version::V2).unwrap();
    let mut c = Client::new(server.url());
    assert_eq!(c.raw("{not json".into()).await, json!(-2));
    assert_eq!(c.raw(json!({"a": "us0"}).to_string()).await, json!(-2));
    assert_eq!(c.cmd(json!({"a": "nosuchcommand"})).await, json!(-2));
    assert_eq!(c.cmd(json!({"a": "f"})).await, json!(-15), "no session");
    let mut bad = Client::new(server.url());
    bad.sid = Some("A".repeat(58));
    assert_eq!(bad.raw(json!([{"a": "f"}]).to_string()).await, json!(-15));
    c.login("a@example.com", "pw").await.unwrap();
    let root = c.root(2).await;
    assert_eq!(c.cmd(json!({"a": "m", "n": root, "t": root})).await, json!(-11), "roots do not move");
    assert_eq!(c.cmd(json!({"a": "d", "n": "AAAAAAAA"})).await, json!(-9));
    assert_eq!(
        c.cmd(json!({"a": "p", "t": root, "n": [{"h": "x", "t": 0, "a": "", "k": "AAAAAAAAAAAAAAAAAAAAAA"}]})).await,
        json!(-13)
    );

    // Chunks must start on chunk boundaries and stay inside the announced size.
    let url = c.cmd(json!({"a": "u", "s": 300_000})).await["p"].as_str().unwrap().to_string();
    let post = |path: String, n: usize| c.http.post(path).body(vec![0u8; n]).send();
    assert_eq!(post(format!("{url}/100"), 16).await.unwrap().text().await.unwrap(), "-7");
    assert_eq!(post(format!("{url}/131072"), 300_000).await.unwrap().text().await.unwrap(), "-7");
    assert_eq!(post(format!("{url}/0?d=AQAAAAAAAAAAAAAA"), 131_072).await.unwrap().text().await.unwrap(), "-14");
    assert_eq!(post(format!("{url}/0"), 131_072).await.unwrap().text().await.unwrap(), "");
    assert_eq!(post(format!("{}ul/nosuchupload/0", server.url()), 16).await.unwrap().text().await.unwrap(), "-8");
    server.stop().await;
}

#[tokio::test]
async fn resent_requests_are_replayed_not_repeated() {
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let key = Key128::new([9; 16]);
    let a = Attributes::with_name("once").encrypt_b64(&key);
    let k = b64::encode(&c.master().wrap(key.as_bytes()).unwrap());
    let body = json!([{"a": "p", "t": root, "n": [{"h": "xxxxxxxx", "t": 1, "a": a, "k": k}]}]).to_string();
    let first = c.raw_with_id(body.clone(), 77).await;
    let again = c.raw_with_id(body, 77).await;
    assert_eq!(first, again);
    let f = c.tree().await;
    assert_eq!(f["f"].as_array().unwrap().len(), 4, "three roots and one folder");
    server.stop().await;
}

#[tokio::test]
async fn action_packets_reach_another_session() {
    let server = TestServer::start().await.unwrap();
    server.add_user("a@example.com", "pw", Version::V2).unwrap();
    let mut one = Client::new(server.url());
    let mut two = Client::new(server.url());
    one.login("a@example.com", "pw").await.unwrap();
    two.login("a@example.com", "pw").await.unwrap();
    let f = two.tree().await;
    let sn = f["sn"].as_str().unwrap().to_string();
    let sid = two.sid.clone().unwrap();
    let sc = |sn: String| {
        let url = format!("{}sc?sn={sn}&sid={sid}", server.url());
        let http = two.http.clone();
        async move { http.post(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let idle = sc(sn.clone()).await;
    let wait_url = idle["w"].as_str().unwrap().to_string();
    let waiter = tokio::spawn({
        let http = two.http.clone();
        async move { http.get(wait_url).send().await.unwrap().status() }
    });
    let root = one.root(2).await;
    one.mkdir(&root, "news").await;
    assert!(tokio::time::timeout(std::time::Duration::from_secs(10), waiter).await.unwrap().unwrap().is_success());
    let got = sc(sn).await;
    let packets = got["a"].as_array().unwrap();
    assert_eq!(packets[0]["a"], "t");
    assert_eq!(packets[0]["t"]["f"][0]["p"], root.as_str());
    assert_ne!(got["sn"], f["sn"]);
    server.stop().await;
}

#[tokio::test]
async fn hashcash_gates_logins_only() {
    let server = TestServer::start().await.unwrap();
    server.add_user("a@example.com", "pw", Version::V2).unwrap();
    server.set_hashcash(Some(192));
    let http = reqwest::Client::new();
    let us0 = json!([{"a": "us0", "user": "a@example.com"}]).to_string();
    let send = |header: Option<String>| {
        let mut r = http.post(format!("{}cs?id=1", server.url())).body(us0.clone());
        if let Some(h) = header {
            r = r.header("X-Hashcash", h);
        }
        r.send()
    };
    let first = send(None).await.unwrap();
    assert_eq!(first.status(), 402);
    assert_eq!(first.content_length(), Some(0));
    let challenge = mega_proto::hashcash::Challenge::parse(first.headers()["x-hashcash"].to_str().unwrap()).unwrap();
    assert_eq!(challenge.easiness, 192);
    // A wrong answer spends the token and gets a new challenge.
    let wrong = (0u32..).map(|n| n.to_be_bytes()).find(|p| !mega_proto::hashcash::verify(&challenge.token, 192, *p));
    let again = send(Some(challenge.response_header(wrong.unwrap()))).await.unwrap();
    assert_eq!(again.status(), 402);
    let challenge = mega_proto::hashcash::Challenge::parse(again.headers()["x-hashcash"].to_str().unwrap()).unwrap();
    let answer = challenge.response_header(challenge.solve());
    let ok = send(Some(answer.clone())).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()[0]["v"], 2);
    assert_eq!(send(Some(answer)).await.unwrap().status(), 402, "a token is single-use");
    // Other commands are not challenged.
    let mut c = Client::new(server.url());
    assert_eq!(c.cmd(json!({"a": "f"})).await, json!(-15));
    server.stop().await;
}

#[tokio::test]
async fn two_factor_login_needs_the_current_code() {
    let server = TestServer::start().await.unwrap();
    server.add_user("a@example.com", "pw", Version::V2).unwrap();
    server.set_mfa("a@example.com", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    assert!(server.set_mfa("a@example.com", "not base32!").is_err());
    let mut c = Client::new(server.url());
    assert_eq!(c.login("a@example.com", "pw").await, Err(-26));
    let code = support::totp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    assert_eq!(c.login_with("a@example.com", "pw", Some(&wrong)).await, Err(-26));
    assert!(c.login_with("a@example.com", "pw", Some(&code)).await.is_ok());
    assert_eq!(Client::new(server.url()).login_with("a@example.com", "wrong", Some(&code)).await, Err(-9));
    server.stop().await;
}

#[tokio::test]
async fn transfer_quota_answers_509_with_time_left() {
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let (v, _) = c.upload(&root, "big.bin", &content(300_000, 0)).await;
    let h = v["f"][0]["h"].as_str().unwrap().to_string();
    server.set_transfer_quota("a@example.com", 200_000).unwrap();
    let url = c.cmd(json!({"a": "g", "g": 1, "n": h})).await["g"].as_str().unwrap().to_string();
    assert_eq!(c.fetch(&format!("{url}/0-131071")).await.status(), 200);
    let over = c.fetch(&format!("{url}/131072-299999")).await;
    assert_eq!(over.status(), 509);
    let left: i64 = over.headers()["x-mega-time-left"].to_str().unwrap().parse().unwrap();
    assert!(left > 0 && left <= 3600);
    let uq = c.cmd(json!({"a": "uq", "xfer": 1})).await;
    assert_eq!(uq["caxfer"], 131_072);
    assert_eq!(uq["mxfer"], 200_000);
    server.stop().await;
}

#[tokio::test]
async fn folder_links_list_and_download_with_the_link_key_only() {
    use mega_proto::keys::{KeyField, KeyOwner};
    use mega_proto::{NodeHandle, NodeKey};
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let folder = c.mkdir(&root, "Shared").await["f"][0]["h"].as_str().unwrap().to_string();
    let folder_key = Key128::new([9; 16]); // the key Client::mkdir uses
    let data = content(200_000, 0);
    let (v, fk) = c.upload(&folder, "inside.bin", &data).await;
    let file = v["f"][0]["h"].as_str().unwrap().to_string();
    let (other, _) = c.upload(&root, "outside.bin", b"not shared").await;
    let outside = other["f"][0]["h"].as_str().unwrap().to_string();

    // Export as the web client does: s2 with EXP, the share key wrapped for us, cr for the
    // folder and its file, then l.
    let share_key = Key128::new([0x5a; 16]);
    let cr = json!([
        [folder],
        [folder, file],
        [
            0,
            0,
            b64::encode(&share_key.wrap(folder_key.as_bytes()).unwrap()),
            0,
            1,
            b64::encode(&share_key.wrap(&fk.to_node_key()).unwrap())
        ]
    ]);
    assert_eq!(c.export_s2(&folder, &share_key, Some(cr)).await, json!(0));
    let ok = b64::encode(&c.master().wrap(share_key.as_bytes()).unwrap());
    let ph = c.cmd(json!({"a": "l", "n": folder})).await.as_str().unwrap().to_string();
    let f = c.tree().await;
    assert_eq!(f["s"][0]["u"], "EXP");
    assert_eq!(f["ok"][0]["k"], ok.as_str());

    // A visitor with only the link.
    let link = mega_proto::link::parse_plain(&format!("https://mega.nz/folder/{ph}#{}", share_key.to_b64())).unwrap();
    let NodeKey::Folder(link_key) = link.require_key().unwrap().clone() else { panic!() };
    let http = reqwest::Client::new();
    let call = |body: Value, n: &str| {
        let url = format!("{}cs?id=9&n={n}", server.url());
        let http = http.clone();
        async move { http.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let listing = call(json!([{"a": "f", "c": 1, "ca": 1, "r": 1}]), &ph).await;
    let nodes = listing[0]["f"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "the folder and its file, nothing else");
    assert!(listing[0]["sn"].is_string());
    let share = KeyOwner::Share(NodeHandle::from_b64(&folder).unwrap());
    let mut names = Vec::new();
    for n in nodes {
        let field = KeyField::parse(n["k"].as_str().unwrap()).unwrap();
        assert_eq!(field.entries.len(), 1, "only the share's entry is shown");
        let key = NodeKey::from_bytes(&field.get(share).unwrap().unwrap_aes(&link_key).unwrap()).unwrap();
        names.push(
            Attributes::decrypt_b64(n["a"].as_str().unwrap(), &key.attr_key()).unwrap().name().unwrap().to_string(),
        );
    }
    assert_eq!(names, ["Shared", "inside.bin"]);
    let g = call(json!([{"a": "g", "g": 1, "n": file}]), &ph).await;
    let mut body = reqwest::get(g[0]["g"].as_str().unwrap()).await.unwrap().bytes().await.unwrap().to_vec();
    let cipher = ContentCipher::new(&fk);
    let macs = cipher.decrypt_file(&mut body);
    assert_eq!(body, data);
    assert_eq!(cipher.meta_mac(&macs), fk.meta_mac);
    assert_eq!(call(json!([{"a": "g", "g": 1, "n": outside}]), &ph).await, json!([-9]), "outside the folder");
    assert_eq!(call(json!([{"a": "f", "c": 1}]), "AAAAAAAA").await, json!([-9]), "an unknown link");
    // Withdrawn: the link is gone.
    assert_eq!(c.cmd(json!({"a": "l", "n": folder, "d": 1})).await, json!(0));
    assert_eq!(call(json!([{"a": "f", "c": 1}]), &ph).await, json!([-9]));
    server.stop().await;
}

#[tokio::test]
async fn thumbnails_upload_attach_and_fetch() {
    use mega_proto::attr::{decrypt_file_attribute, encrypt_file_attribute};
    use mega_proto::storage::{parse_file_attr_records, parse_file_attrs};
    use mega_proto::UserHandle;
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let (v, fk) = c.upload(&root, "photo.jpg", &content(50_000, 0)).await;
    let h = v["f"][0]["h"].as_str().unwrap().to_string();
    let jpeg = b"\xff\xd8\xff\xe0 a tiny stand-in for a 120x120 thumbnail \xff\xd9".to_vec();
    let enc = encrypt_file_attribute(&jpeg, &fk.attr_key());
    let url = c.cmd(json!({"a": "ufa", "s": enc.len(), "ssl": 0})).await["p"].as_str().unwrap().to_string();
    // The web client posts to <p>/<type>; the handle comes back as 8 raw bytes.
    let handle = c.http.post(format!("{url}/0")).body(enc.clone()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(handle.len(), 8);
    let fah = UserHandle(handle[..].try_into().unwrap());
    let fa = c.cmd(json!({"a": "pfa", "n": h, "fa": format!("0*{fah}")})).await;
    assert_eq!(fa, json!(format!("924:0*{fah}")));
    assert_eq!(c.cmd(json!({"a": "pfa", "n": h, "fa": "0*AAAAAAAAAAA"})).await, json!(-2), "unknown handle");
    let node = c.tree().await["f"].as_array().unwrap().iter().find(|n| n["h"] == h.as_str()).unwrap().clone();
    let attrs = parse_file_attrs(node["fa"].as_str().unwrap());
    assert_eq!((attrs[0].kind, attrs[0].handle), (0, fah));
    let get =
        c.cmd(json!({"a": "ufa", "fah": fah.to_b64(), "ssl": 0, "r": 1})).await["p"].as_str().unwrap().to_string();
    let body = c.http.post(get).body(fah.0.to_vec()).send().await.unwrap().bytes().await.unwrap();
    let records = parse_file_attr_records(&body).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, fah);
    let plain = decrypt_file_attribute(records[0].1, &fk.attr_key()).unwrap();
    assert_eq!(&plain[..jpeg.len()], &jpeg[..]);
    server.stop().await;
}

#[tokio::test]
async fn seeded_files_are_what_a_client_uploads() {
    use mega_proto::fingerprint::Fingerprint;
    let server = TestServer::start().await.unwrap();
    server.add_user("a@example.com", "pw", Version::V2).unwrap();
    let sizes = [0usize, 1, 131_073, 5 * 1024 * 1024 + 17];
    for (i, &size) in sizes.iter().enumerate() {
        server
            .seed_bytes("a@example.com", &format!("/Seeded/deep/f{i}.bin"), &content(size, 0), 1_700_000_000 + i as i64)
            .unwrap();
    }
    assert!(server.seed_bytes("nobody@example.com", "/x", b"x", 0).is_err());
    assert!(server.seed_bytes("a@example.com", "/", b"x", 0).is_err());
    let mut c = Client::new(server.url());
    c.login("a@example.com", "pw").await.unwrap();
    let f = c.tree().await;
    let folders = f["f"].as_array().unwrap().iter().filter(|n| n["t"] == 1).count();
    assert_eq!(folders, 2, "/Seeded and /Seeded/deep, created once");
    let files = c.files().await;
    for (i, &size) in sizes.iter().enumerate() {
        let (_, h, fk, s) = files.iter().find(|f| f.0 == format!("f{i}.bin")).unwrap();
        assert_eq!(*s as usize, size);
        assert_eq!(c.download_verified(h, fk).await, content(size, 0), "f{i}.bin");
        let node = f["f"].as_array().unwrap().iter().find(|n| n["h"] == h.as_str()).unwrap();
        let attrs = Attributes::decrypt_b64(node["a"].as_str().unwrap(), &fk.attr_key()).unwrap();
        let fp = Fingerprint::parse(attrs.fingerprint().unwrap()).unwrap();
        assert_eq!(fp, Fingerprint::of(&content(size, 0), 1_700_000_000 + i as i64));
    }
    // A link to a seeded file opens with its key alone.
    let (_, h, _, _) = files.iter().find(|f| f.0 == "f2.bin").unwrap();
    let link = server.file_link("a@example.com", mega_proto::NodeHandle::from_b64(h).unwrap()).unwrap();
    let parsed = mega_proto::link::parse_plain(&link).unwrap();
    let mega_proto::NodeKey::File(fk) = parsed.require_key().unwrap().clone() else { panic!() };
    let mut anon = Client::new(server.url());
    let g = anon.cmd(json!({"a": "g", "g": 1, "p": parsed.handle.to_b64()})).await;
    let mut body = anon.fetch(g["g"].as_str().unwrap()).await.bytes().await.unwrap().to_vec();
    let cipher = ContentCipher::new(&fk);
    assert_eq!(cipher.meta_mac(&cipher.decrypt_file(&mut body)), fk.meta_mac);
    assert_eq!(body, content(131_073, 0));
    server.stop().await;
}

#[tokio::test]
async fn injected_faults_answer_as_the_service_does() {
    use mega_testserver::faults::Faults;
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let (v, _) = c.upload(&root, "f.bin", &content(400_000, 0)).await;
    let h = v["f"][0]["h"].as_str().unwrap().to_string();
    let url = c.cmd(json!({"a": "g", "g": 1, "n": h})).await["g"].as_str().unwrap().to_string();
    let set = |spec: &str| server.set_faults(spec.parse::<Faults>().unwrap());

    set("eagain=1");
    assert_eq!(c.raw(json!([{"a": "uq"}]).to_string()).await, json!(-3));
    set("500=1");
    let r = c.http.post(format!("{}cs?id=5", server.url())).body("[]").send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(c.fetch(&url).await.status(), 500);
    set("expired=1");
    assert_eq!(c.fetch(&url).await.status(), 403);
    let up = server.upload_url("a@example.com", 10).unwrap();
    assert_eq!(c.http.post(format!("{up}/0")).body(vec![0u8; 10]).send().await.unwrap().text().await.unwrap(), "-8");
    // A broken body is an error to the client, at send or while reading (fresh connections:
    // a broken one is not reused).
    let broken = |url: String| async move {
        match reqwest::Client::new().get(url).send().await {
            Err(_) => true,
            Ok(r) => r.bytes().await.is_err(),
        }
    };
    set("reset=1");
    assert!(broken(url.clone()).await, "a reset body is an error");
    set("truncate=1");
    assert!(broken(url.clone()).await, "a short body is an error");
    set("slow=1:300");
    let t = std::time::Instant::now();
    let first = reqwest::Client::new().get(format!("{url}/0-15")).send().await.unwrap();
    assert_eq!(first.bytes().await.unwrap().len(), 16);
    assert!(t.elapsed() >= std::time::Duration::from_millis(300), "the first byte waited");
    set("");
    let whole = reqwest::Client::new().get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(whole.len(), 400_000, "faults off: whole again");
    set("esid=1");
    assert_eq!(c.raw(json!([{"a": "uq"}]).to_string()).await, json!(-15));
    set("");
    assert_eq!(c.raw(json!([{"a": "uq"}]).to_string()).await, json!(-15), "the session stays gone");
    assert!(c.login("a@example.com", "pw").await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn throttle_limits_transfer_bandwidth() {
    let (server, mut c) = logged_in().await;
    let root = c.root(2).await;
    let (v, _) = c.upload(&root, "f.bin", &content(400_000, 0)).await;
    let h = v["f"][0]["h"].as_str().unwrap().to_string();
    let url = c.cmd(json!({"a": "g", "g": 1, "n": h})).await["g"].as_str().unwrap().to_string();
    // 1 MB/s for the server: two parallel 400 kB downloads need at least about 0.8 s together.
    server.set_throttle(Some(1_000_000), None);
    let t = std::time::Instant::now();
    let (a, b) = tokio::join!(c.fetch(&url), c.fetch(&url));
    let (a, b) = (a.bytes().await.unwrap(), b.bytes().await.unwrap());
    assert_eq!((a.len(), b.len()), (400_000, 400_000));
    assert!(t.elapsed() >= std::time::Duration::from_millis(700), "global limit: {:?}", t.elapsed());
    // 2 MB/s per transfer and no global limit: one 400 kB download takes at least about 0.2 s.
    server.set_throttle(None, Some(2_000_000));
    let t = std::time::Instant::now();
    assert_eq!(c.fetch(&url).await.bytes().await.unwrap().len(), 400_000);
    assert!(t.elapsed() >= std::time::Duration::from_millis(150), "per-transfer limit: {:?}", t.elapsed());
    server.set_throttle(None, None);
    server.stop().await;
}

#[tokio::test]
async fn state_survives_a_restart_with_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = || mega_testserver::Config { listen: None, data: Some(dir.path().to_path_buf()) };
    let server = TestServer::start_with(config()).await.unwrap();
    server.add_user("keep@example.com", "pw", Version::V1).unwrap();
    let mut c = Client::new(server.url());
    c.login("keep@example.com", "pw").await.unwrap();
    let root = c.root(2).await;
    let folder = c.mkdir(&root, "Kept").await["f"][0]["h"].as_str().unwrap().to_string();
    let data = content(300_001, 0);
    let (v, fk) = c.upload(&folder, "kept.bin", &data).await;
    let file = v["f"][0]["h"].as_str().unwrap().to_string();
    let ph = c.cmd(json!({"a": "l", "n": file})).await.as_str().unwrap().to_string();
    assert!(c.cmd(json!({"a": "upv", "firstname": ["S2lyaQ", ""]})).await["firstname"].is_string());
    let before = c.tree().await;
    let quota = c.cmd(json!({"a": "uq", "strg": 1})).await;
    // An upload cut short by the restart leaves nothing behind.
    let u = c.cmd(json!({"a": "u", "s": 1_000_000})).await;
    c.http.post(format!("{}/0", u["p"].as_str().unwrap())).body(vec![1u8; 131_072]).send().await.unwrap();
    server.stop().await;

    let server = TestServer::start_with(config()).await.unwrap();
    c.base = server.url().to_string();
    // The saved session still works, and everything is where it was.
    let after = c.tree().await;
    assert_eq!(after["f"], before["f"]);
    assert_eq!(after["ph"], before["ph"]);
    assert_eq!(c.download_verified(&file, &fk).await, data);
    assert_eq!(c.cmd(json!({"a": "uq", "strg": 1})).await["cstrg"], quota["cstrg"]);
    assert_eq!(c.cmd(json!({"a": "uga", "ua": "firstname"})).await, json!("S2lyaQ"));
    assert_eq!(c.cmd(json!({"a": "g", "p": ph})).await["s"], json!(data.len()));
    // Action packets from before the restart are gone: the client must fetch the tree again.
    let old_sn = "AAAAAAAAAAA";
    assert_eq!(c.sc(old_sn).await, json!(-6));
    let sc = c.sc(after["sn"].as_str().unwrap()).await;
    assert!(sc["w"].is_string(), "polling on from the new sn: {sc}");
    // A fresh login, and the partial upload's file is gone from the data directory.
    Client::new(server.url()).login("keep@example.com", "pw").await.unwrap();
    let stored: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(stored.iter().filter(|n| n.to_string_lossy().starts_with("up-")).count(), 1, "{stored:?}");
    server.stop().await;

    // A damaged state file is reported, not loaded half-way or overwritten.
    std::fs::write(dir.path().join("state.json"), b"{\"format\":1,\"accounts\":[").unwrap();
    let err = TestServer::start_with(config()).await.err().expect("a damaged state must not load");
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[tokio::test]
async fn incoming_shares_copies_and_imports() {
    let server = TestServer::start().await.unwrap();
    server.add_user("owner@example.com", "pw", Version::V2).unwrap();
    server.add_user("guest@example.com", "pw", Version::V2).unwrap();
    let data = content(400_000, 0);
    server.seed_bytes("owner@example.com", "/Holiday/plan.bin", &data, 1_700_000_000).unwrap();
    server.seed_bytes("owner@example.com", "/Holiday/day 1/photo.bin", b"photo", 1_700_000_000).unwrap();
    let private = server.seed_bytes("owner@example.com", "/private.bin", b"not shared", 1_700_000_000).unwrap();
    server.seed_folder("owner@example.com", "/Holiday/empty").unwrap();
    server.share_folder("owner@example.com", "/Holiday", "guest@example.com", 0).unwrap();

    let mut guest = Client::new(server.url());
    guest.login("guest@example.com", "pw").await.unwrap();
    let f = guest.tree().await;
    let share_root = f["f"].as_array().unwrap().iter().find(|n| n.get("su").is_some()).unwrap().clone();
    assert_eq!(share_root["r"], 0);
    assert!(f["u"].as_array().unwrap().iter().any(|u| u["m"] == "owner@example.com" && u["c"] == 1));
    let nodes = guest.decrypted_tree().await;
    let shared = client::paths_below(&nodes, share_root["h"].as_str().unwrap());
    let names: Vec<&str> = shared.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["day 1/", "day 1/photo.bin", "empty/", "plan.bin"]);
    let plan = shared.iter().find(|(p, _)| p == "plan.bin").unwrap().1.clone();
    let Some(mega_proto::NodeKey::File(fk)) = plan.key.clone() else { panic!("no file key") };
    assert_eq!(guest.download_verified(&plan.h, &fk).await, data, "a shared file downloads");
    let g = guest.cmd(json!({"a": "g", "g": 1, "n": private.to_b64()})).await;
    assert_eq!(g, json!(-11), "not shared: EACCESS");

    // Copy the shared file into the guest's own drive: same content, the guest's own key entry.
    let root = guest.root(2).await;
    let k = b64::encode(&guest.master().wrap(&fk.to_node_key()).unwrap());
    let a = Attributes::with_name("my copy.bin").encrypt_b64(&fk.attr_key());
    let copy = guest.cmd(json!({"a": "p", "t": root, "n": [{"h": plan.h, "t": 0, "a": a, "k": k}]})).await;
    let copy_h = copy["f"][0]["h"].as_str().unwrap().to_string();
    assert_eq!(guest.download_verified(&copy_h, &fk).await, data);
    // A node the guest cannot read cannot be copied.
    let a2 = Attributes::with_name("stolen").encrypt_b64(&fk.attr_key());
    let stolen = json!({"a": "p", "t": root, "n": [{"h": private.to_b64(), "t": 0, "a": a2, "k": k}]});
    assert_eq!(guest.cmd(stolen).await, json!(-11));
    // Import from a public file link (`ph`).
    let link = server.file_link("owner@example.com", private).unwrap();
    let link = mega_proto::link::parse_plain(&link).unwrap();
    let mega_proto::NodeKey::File(pk) = link.require_key().unwrap().clone() else { panic!() };
    let k = b64::encode(&guest.master().wrap(&pk.to_node_key()).unwrap());
    let a = Attributes::with_name("imported.bin").encrypt_b64(&pk.attr_key());
    let imported = json!({"a": "p", "t": root, "n": [{"ph": link.handle.to_b64(), "t": 0, "a": a, "k": k}]});
    let imported = guest.cmd(imported).await["f"][0]["h"].as_str().unwrap().to_string();
    assert_eq!(guest.download_verified(&imported, &pk).await, b"not shared");

    // The owner adds a folder inside the share: the guest hears of it, with the share's key.
    let sn = f["sn"].as_str().unwrap().to_string();
    let mut owner = Client::new(server.url());
    owner.login("owner@example.com", "pw").await.unwrap();
    let holiday = server.find("owner@example.com", "/Holiday").unwrap().to_b64();
    owner.mkdir(&holiday, "day 2").await;
    let sc = guest.sc(&sn).await;
    let packets = sc["a"].as_array().unwrap_or_else(|| panic!("{sc}"));
    // (The guest's own copies above are in its log too.)
    let t = packets.iter().find(|p| p["a"] == "t" && p["t"]["f"][0]["p"] == holiday.as_str());
    let t = t.unwrap_or_else(|| panic!("no packet for the new folder: {sc}"));
    assert!(!t["t"]["f"][0]["k"].as_str().unwrap().contains(&owner.user.unwrap().to_b64()), "only the share's key");
    server.stop().await;
}

#[tokio::test]
async fn folder_link_visitors_hear_of_changes_inside_the_folder_only() {
    let (server, mut c) = logged_in().await;
    server.seed_bytes("a@example.com", "/Album/one.bin", b"one", 1).unwrap();
    let link = server.folder_link("a@example.com", "/Album").unwrap();
    let link = mega_proto::link::parse_plain(&link).unwrap();
    let ph = link.handle.to_b64();
    let http = reqwest::Client::new();
    let listing: Value = http
        .post(format!("{}cs?id=1&n={ph}", server.url()))
        .body(json!([{"a": "f", "c": 1}]).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sn = listing[0]["sn"].as_str().unwrap().to_string();
    assert_eq!(c.folder_link_files(&link).await.len(), 1);
    let root = c.root(2).await;
    c.upload(&root, "outside.bin", b"elsewhere").await;
    let album = server.find("a@example.com", "/Album").unwrap().to_b64();
    c.upload(&album, "two.bin", b"two").await;
    let sc: Value = http.post(format!("{}sc?sn={sn}&n={ph}", server.url())).send().await.unwrap().json().await.unwrap();
    let packets = sc["a"].as_array().unwrap_or_else(|| panic!("{sc}"));
    assert_eq!(packets.len(), 1, "only the upload into the folder: {sc}");
    assert_eq!(packets[0]["t"]["f"][0]["p"], album.as_str());
    let next = sc["sn"].as_str().unwrap();
    let sc = c.post_json(&format!("{}sc?sn={next}&n={ph}", server.url())).await;
    assert!(sc["w"].is_string(), "{sc}");
    server.stop().await;
}

#[tokio::test]
async fn user_attributes_are_stored_with_versions() {
    let (server, mut c) = logged_in().await;
    assert_eq!(c.cmd(json!({"a": "uga", "ua": "*!prefs", "v": 1})).await, json!(-9), "unset");
    let v1 = c.cmd(json!({"a": "upv", "*!prefs": ["AAEC", ""]})).await["*!prefs"].as_str().unwrap().to_string();
    assert_eq!(c.cmd(json!({"a": "uga", "ua": "*!prefs", "v": 1})).await, json!({"av": "AAEC", "v": v1}));
    assert_eq!(c.cmd(json!({"a": "upv", "*!prefs": ["AwQF", "wrongver"]})).await, json!(-8), "a stale version");
    let v2 = c.cmd(json!({"a": "upv", "*!prefs": ["AwQF", v1]})).await["*!prefs"].as_str().unwrap().to_string();
    assert_ne!(v1, v2);
    assert_eq!(c.cmd(json!({"a": "uga", "ua": "*!prefs"})).await, json!("AwQF"));
    // Another user's private attributes are not readable; public ones are.
    server.add_user("b@example.com", "pw", Version::V2).unwrap();
    let mut b = Client::new(server.url());
    b.login("b@example.com", "pw").await.unwrap();
    let me = c.user.unwrap().to_b64();
    assert_eq!(b.cmd(json!({"a": "uga", "u": me, "ua": "*!prefs"})).await, json!(-11));
    c.cmd(json!({"a": "upv", "+puEd255": ["cHVia2V5", ""]})).await;
    assert_eq!(b.cmd(json!({"a": "uga", "u": me, "ua": "+puEd255"})).await, json!("cHVia2V5"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_drive_holds_what_it_documents() {
    use mega_testserver::demo;
    let server = TestServer::start().await.unwrap();
    let d = server.seed_demo().unwrap();
    let mut c = Client::new(server.url());
    c.login(demo::EMAIL, demo::PASSWORD).await.unwrap();
    let nodes = c.decrypted_tree().await;
    assert!(nodes.iter().all(|n| n.t > 1 || n.key.is_some()), "every node decrypts");
    let root = c.root(2).await;
    let drive = client::paths_below(&nodes, &root);
    let files: Vec<_> = drive.iter().filter(|(_, n)| n.t == 0).collect();
    assert!(files.len() >= 250, "a few hundred files: {}", files.len());
    assert!(drive.iter().any(|(p, _)| p == "Documents/Work/Reports 2025/"), "nested folders");
    let big: Vec<_> = files.iter().filter(|(_, n)| n.size >= 50_000_000).collect();
    assert_eq!(big.len(), 3);
    assert!(big.iter().all(|(_, n)| n.size <= 500_000_000));
    assert_eq!(drive.iter().filter(|(p, _)| p == "Documents/report.pdf").count(), 2, "duplicate file names");
    assert_eq!(drive.iter().filter(|(p, _)| p == "Documents/Notes/").count(), 2, "duplicate folder names");
    for ext in [".pdf", ".md", ".csv", ".json", ".rs", ".wav", ".jpg", ".png", ".html"] {
        assert!(files.iter().any(|(p, _)| p.ends_with(ext)), "a {ext} file");
    }
    // Every image has a thumbnail (a 120x120 JPEG) and a preview.
    let images: Vec<_> = files.iter().filter(|(p, _)| p.ends_with(".jpg") || p.ends_with(".png")).collect();
    assert!(images.len() >= 100);
    assert!(images
        .iter()
        .all(|(_, n)| n.raw["fa"].as_str().is_some_and(|fa| fa.contains(":0*") && fa.contains(":1*"))));
    let (_, photo) = images[0];
    let fa = photo.raw["fa"].as_str().unwrap();
    let thumb = fa.split('/').find_map(|e| e.split_once(":0*")).unwrap().1;
    let url = c.cmd(json!({"a": "ufa", "fah": thumb, "ssl": 0, "r": 1})).await["p"].as_str().unwrap().to_string();
    let records = c.http.post(&url).body(b64::decode(thumb)).send().await.unwrap().bytes().await.unwrap();
    let blob = &records[12..];
    let jpeg = mega_proto::attr::decrypt_file_attribute(blob, &photo.key.as_ref().unwrap().attr_key()).unwrap();
    let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (120, 120));
    // Rubbish: three items, each remembering where it came from.
    let rubbish = c.root(4).await;
    let binned: Vec<_> = nodes.iter().filter(|n| n.p == rubbish).collect();
    assert_eq!(binned.len(), 3);
    for n in binned {
        let rr = n.attrs.0["rr"].as_str().unwrap();
        assert!(nodes.iter().any(|o| o.h == rr && o.t == 1), "{} restores to a folder", n.name);
    }
    // The incoming share, readable.
    let share = nodes.iter().find(|n| n.raw.get("su").is_some()).expect("an incoming share");
    assert_eq!(share.name, demo::SHARED_FOLDER);
    assert_eq!(client::paths_below(&nodes, &share.h).iter().filter(|(_, n)| n.t == 0).count(), 8);
    // The #P! link opens with its password, to the documented file.
    let link = mega_proto::protected::decrypt_url(&d.protected_link, demo::LINK_PASSWORD).unwrap();
    let g = c.cmd(json!({"a": "g", "p": link.handle.to_b64()})).await;
    let key = link.require_key().unwrap();
    let attrs = Attributes::decrypt_b64(g["at"].as_str().unwrap(), &key.attr_key()).unwrap();
    assert_eq!(attrs.name(), Some("CV.pdf"));
    assert!(mega_proto::protected::decrypt_url(&d.protected_link, "wrong").is_err());
    // The file link and the folder link.
    let file = mega_proto::link::parse_plain(&d.file_link).unwrap();
    assert_eq!(c.cmd(json!({"a": "g", "p": file.handle.to_b64()})).await["s"], 52_000_000);
    let folder = mega_proto::link::parse_plain(&d.folder_link).unwrap();
    assert_eq!(c.folder_link_files(&folder).await.len(), 45);
    assert_eq!(d.files, files.len() + 2 + 4, "the drive's and the rubbish bin's files");
    server.stop().await;
}
