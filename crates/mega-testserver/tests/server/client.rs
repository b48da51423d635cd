//! A minimal client built from `mega-proto` and raw HTTP, to drive the server in tests.
#![allow(unreachable_pub)]

use mega_proto::attr::Attributes;
use mega_proto::content::ContentCipher;
use mega_proto::keys::{KeyField, KeyOwner};
use mega_proto::login::{self, Prelogin};
use mega_proto::rsa::PrivateKey;
use mega_proto::{b64, chunks, FileKey, Key128, NodeKey, UserHandle};
use serde_json::{json, Value};

/// Just enough of a client to drive the server.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub sid: Option<String>,
    pub master: Option<Key128>,
    pub user: Option<UserHandle>,
    id: u64,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client { http: reqwest::Client::new(), base: base.into(), sid: None, master: None, user: None, id: 1000 }
    }

    pub async fn raw(&mut self, body: String) -> Value {
        self.id += 1;
        self.raw_with_id(body, self.id).await
    }

    pub async fn raw_with_id(&self, body: String, id: u64) -> Value {
        let mut url = format!("{}cs?id={id}", self.base);
        if let Some(s) = &self.sid {
            url.push_str(&format!("&sid={s}"));
        }
        let mut r = self.http.post(&url).body(body.clone()).send().await.unwrap();
        if r.status() == 402 {
            // Hashcash: solve and send the same request again (same id).
            let challenge =
                mega_proto::hashcash::Challenge::parse(r.headers()["x-hashcash"].to_str().unwrap()).unwrap();
            let answer = challenge.response_header(challenge.solve());
            r = self.http.post(&url).header("X-Hashcash", answer).body(body).send().await.unwrap();
        }
        assert_eq!(r.headers()["content-type"], "application/json");
        r.json().await.unwrap()
    }

    /// One command; a per-command result.
    pub async fn cmd(&mut self, c: Value) -> Value {
        let v = self.raw(json!([c]).to_string()).await;
        v.as_array().unwrap_or_else(|| panic!("request-level error {v}"))[0].clone()
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Result<UserHandle, i64> {
        self.login_with(email, password, None).await
    }

    pub async fn login_with(&mut self, email: &str, password: &str, mfa: Option<&str>) -> Result<UserHandle, i64> {
        // A fresh login carries no session.
        self.sid = None;
        let pre = self.cmd(json!({"a": "us0", "user": email.to_lowercase()})).await;
        if let Some(e) = pre.as_i64() {
            return Err(e);
        }
        let prelogin = match pre["v"].as_u64() {
            Some(1) => Prelogin::V1,
            _ => Prelogin::V2 { salt: b64::decode(pre["s"].as_str().unwrap()) },
        };
        let secrets = login::login_secrets(email, password, &prelogin).unwrap();
        let mut us = json!({"a": "us", "user": email.to_lowercase(), "uh": secrets.uh.as_str(), "sek": "AAAAAAAAAAAAAAAAAAAAAA"});
        if let Some(code) = mfa {
            us["mfa"] = json!(code);
        }
        let r = self.cmd(us).await;
        if let Some(e) = r.as_i64() {
            return Err(e);
        }
        assert_eq!(r["sek"], "AAAAAAAAAAAAAAAAAAAAAA", "sek is echoed");
        let master = login::decrypt_master_key(&secrets.password_key, r["k"].as_str().unwrap()).unwrap();
        let key = PrivateKey::decrypt_privk(r["privk"].as_str().unwrap(), &master).unwrap();
        let user = UserHandle::from_b64(r["u"].as_str().unwrap()).unwrap();
        let sid = key.decrypt_csid(r["csid"].as_str().unwrap(), user).unwrap();
        self.sid = Some(sid.to_b64());
        self.master = Some(master);
        self.user = Some(user);
        Ok(user)
    }

    pub fn master(&self) -> &Key128 {
        self.master.as_ref().unwrap()
    }

    pub async fn tree(&mut self) -> Value {
        self.cmd(json!({"a": "f", "c": 1})).await
    }

    pub async fn root(&mut self, t: u64) -> String {
        let f = self.tree().await;
        f["f"].as_array().unwrap().iter().find(|n| n["t"] == t).unwrap()["h"].as_str().unwrap().to_string()
    }

    pub async fn mkdir(&mut self, parent: &str, name: &str) -> Value {
        let key = Key128::new([9; 16]);
        let a = Attributes::with_name(name).encrypt_b64(&key);
        let k = b64::encode(&self.master().wrap(key.as_bytes()).unwrap());
        self.cmd(json!({"a": "p", "t": parent, "n": [{"h": "xxxxxxxx", "t": 1, "a": a, "k": k}], "i": "abcdefghij"}))
            .await
    }

    /// Uploads `data` in chunk POSTs, last chunk first, and finishes with `p`.
    pub async fn upload(&mut self, parent: &str, name: &str, data: &[u8]) -> (Value, FileKey) {
        let r = self.cmd(json!({"a": "u", "s": data.len()})).await;
        let url = r["p"].as_str().unwrap().to_string();
        let cipher = ContentCipher::from_parts(&[5; 16], &[6; 8]);
        let mut enc = data.to_vec();
        let macs = cipher.encrypt_file(&mut enc);
        let mut token = String::new();
        let ranges: Vec<_> = chunks::chunks(data.len() as u64).collect();
        for r in ranges.iter().rev() {
            let body = enc[r.start as usize..r.end as usize].to_vec();
            let resp = self.http.post(format!("{url}/{}", r.start)).body(body).send().await.unwrap();
            token = resp.text().await.unwrap();
        }
        if data.is_empty() {
            token = self.http.post(format!("{url}/0")).body(Vec::new()).send().await.unwrap().text().await.unwrap();
        }
        assert_eq!(token.len(), 36, "completion token");
        let fk = FileKey { aes_key: [5; 16], nonce: [6; 8], meta_mac: cipher.meta_mac(&macs) };
        let a = Attributes::with_name(name).encrypt_b64(&fk.attr_key());
        let k = b64::encode(&self.master().wrap(&fk.to_node_key()).unwrap());
        let v = self.cmd(json!({"a": "p", "t": parent, "n": [{"h": token, "t": 0, "a": a, "k": k}]})).await;
        (v, fk)
    }

    /// `s2` exporting `folder` as the web client does: `ok` and `ha` wrapped with the master
    /// key, and `cr` when given. Returns the reply.
    pub async fn export_s2(&mut self, folder: &str, share_key: &Key128, cr: Option<Value>) -> Value {
        let ok = b64::encode(&self.master().wrap(share_key.as_bytes()).unwrap());
        let mut hh = [0u8; 16];
        hh[..8].copy_from_slice(folder.as_bytes());
        hh[8..].copy_from_slice(folder.as_bytes());
        self.master().ecb_encrypt(&mut hh).unwrap();
        let mut s2 = json!({"a": "s2", "n": folder, "s": [{"u": "EXP", "r": 0}], "ok": ok, "ha": b64::encode(&hh)});
        if let Some(cr) = cr {
            s2["cr"] = cr;
        }
        self.cmd(s2).await
    }

    pub async fn fetch(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }
}

impl Client {
    /// The root's files by decrypted name: `(handle, key, size)`.
    pub async fn files(&mut self) -> Vec<(String, String, FileKey, u64)> {
        let me = KeyOwner::User(self.user.unwrap());
        let f = self.tree().await;
        let mut out = Vec::new();
        for n in f["f"].as_array().unwrap().iter().filter(|n| n["t"] == 0) {
            let field = KeyField::parse(n["k"].as_str().unwrap()).unwrap();
            let raw = field.get(me).unwrap().unwrap_aes(self.master()).unwrap();
            let NodeKey::File(fk) = NodeKey::from_bytes(&raw).unwrap() else { panic!("not a file key") };
            let name = Attributes::decrypt_b64(n["a"].as_str().unwrap(), &fk.attr_key()).unwrap();
            let h = n["h"].as_str().unwrap().to_string();
            out.push((name.name().unwrap().to_string(), h, fk, n["s"].as_u64().unwrap()));
        }
        out
    }

    /// Downloads a file of ours and checks its meta-MAC (the SDK rule).
    pub async fn download_verified(&mut self, h: &str, fk: &FileKey) -> Vec<u8> {
        let g = self.cmd(json!({"a": "g", "g": 1, "n": h})).await;
        let mut data = self.fetch(g["g"].as_str().unwrap()).await.bytes().await.unwrap().to_vec();
        let cipher = ContentCipher::new(fk);
        let macs = cipher.decrypt_file(&mut data);
        assert_eq!(cipher.meta_mac(&macs), fk.meta_mac, "meta-MAC of {h}");
        data
    }
}

impl Client {
    /// The files of a folder link, decrypted with the link key alone: `(name, handle, key)`.
    pub async fn folder_link_files(&self, link: &mega_proto::link::Link) -> Vec<(String, String, FileKey)> {
        let NodeKey::Folder(link_key) = link.require_key().unwrap().clone() else { panic!("not a folder link") };
        let url = format!("{}cs?id=1&n={}", self.base, link.handle);
        let body = json!([{"a": "f", "c": 1, "ca": 1, "r": 1}]).to_string();
        let v: Value = self.http.post(url).body(body).send().await.unwrap().json().await.unwrap();
        let nodes = v[0]["f"].as_array().unwrap_or_else(|| panic!("folder link listing: {v}"));
        let mut out = Vec::new();
        for n in nodes.iter().filter(|n| n["t"] == 0) {
            let field = KeyField::parse(n["k"].as_str().unwrap()).unwrap();
            let (_, wrapped) = field.entries.iter().find(|(o, _)| matches!(o, KeyOwner::Share(_))).unwrap();
            let NodeKey::File(fk) = NodeKey::from_bytes(&wrapped.unwrap_aes(&link_key).unwrap()).unwrap() else {
                panic!("not a file key")
            };
            let name = Attributes::decrypt_b64(n["a"].as_str().unwrap(), &fk.attr_key()).unwrap();
            out.push((name.name().unwrap().to_string(), n["h"].as_str().unwrap().to_string(), fk));
        }
        out
    }
}

/// A node of a fetched tree, decrypted as a client does.
#[derive(Debug, Clone)]
pub struct Decrypted {
    pub h: String,
    pub p: String,
    pub t: u64,
    pub name: String,
    pub size: u64,
    pub key: Option<NodeKey>,
    pub attrs: Attributes,
    pub raw: Value,
}

impl Client {
    /// Fetches the tree and decrypts every node key it can: the user's own entries, share keys
    /// from `ok` (outgoing) and `sk` (incoming shares, AES-wrapped with the master key).
    pub async fn decrypted_tree(&mut self) -> Vec<Decrypted> {
        let f = self.tree().await;
        let me = self.user.unwrap();
        let mut share_keys: Vec<(String, Key128)> = Vec::new();
        for ok in f["ok"].as_array().unwrap() {
            let raw = self.master().unwrap(&b64::decode(ok["k"].as_str().unwrap())).unwrap();
            share_keys.push((ok["h"].as_str().unwrap().to_string(), Key128::from_slice(&raw).unwrap()));
        }
        for n in f["f"].as_array().unwrap() {
            if let Some(sk) = n.get("sk").and_then(Value::as_str) {
                let raw = self.master().unwrap(&b64::decode(sk)).unwrap();
                share_keys.push((n["h"].as_str().unwrap().to_string(), Key128::from_slice(&raw).unwrap()));
            }
        }
        let mut out = Vec::new();
        for n in f["f"].as_array().unwrap() {
            let t = n["t"].as_u64().unwrap();
            let mut key = None;
            if t <= 1 {
                let field = KeyField::parse(n["k"].as_str().unwrap()).unwrap();
                for (owner, wrapped) in &field.entries {
                    let kek = match owner {
                        KeyOwner::User(u) if *u == me => Some(self.master().clone()),
                        KeyOwner::Share(s) => share_keys.iter().find(|(h, _)| *h == s.to_b64()).map(|(_, k)| k.clone()),
                        _ => None,
                    };
                    if let Some(raw) = kek.and_then(|k| wrapped.unwrap_aes(&k).ok()) {
                        key = NodeKey::from_bytes(&raw).ok();
                        break;
                    }
                }
            }
            let attrs = key
                .as_ref()
                .and_then(|k| Attributes::decrypt_b64(n["a"].as_str().unwrap(), &k.attr_key()).ok())
                .unwrap_or_default();
            out.push(Decrypted {
                h: n["h"].as_str().unwrap().to_string(),
                p: n["p"].as_str().unwrap_or("").to_string(),
                t,
                name: attrs.name().unwrap_or("").to_string(),
                size: n["s"].as_u64().unwrap_or(0),
                key,
                attrs,
                raw: n.clone(),
            });
        }
        out
    }
}

/// The path of every node below `root` in a decrypted tree: `(path, node)`, folders ending in `/`.
pub fn paths_below<'a>(nodes: &'a [Decrypted], root: &str) -> Vec<(String, &'a Decrypted)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_string(), String::new())];
    while let Some((h, prefix)) = stack.pop() {
        for n in nodes.iter().filter(|n| n.p == h) {
            let path = format!("{prefix}{}", n.name);
            if n.t == 1 {
                out.push((format!("{path}/"), n));
                stack.push((n.h.clone(), format!("{path}/")));
            } else {
                out.push((path, n));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

impl Client {
    /// POSTs to a URL with an empty body; the JSON answer.
    pub async fn post_json(&self, url: &str) -> Value {
        self.http.post(url).send().await.unwrap().json().await.unwrap()
    }

    /// Polls the event channel once from `sn`, with the session.
    pub async fn sc(&self, sn: &str) -> Value {
        self.post_json(&format!("{}sc?sn={sn}&sid={}", self.base, self.sid.clone().unwrap())).await
    }
}
