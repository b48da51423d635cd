//! The key manager's `^!keys` (spec §6.10): every account the server creates has one, as an
//! official client writes it at sign-up; it is read and written with versions; and with the
//! official-apps switch, the shares and folder links the server makes keep their keys only
//! there, behind dummy `ok`/`ha`.

use crate::client::{self, Client};
use mega_proto::keymgr::{KeysContainer, ATTRIBUTE};
use mega_proto::rsa::{self, PrivateKey};
use mega_proto::{b64, Key128, NodeHandle, NodeKey};
use mega_testserver::support::{self, content};
use mega_testserver::Version;
use serde_json::{json, Value};

const DUMMY: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// The client's `^!keys`, from `ug` as the SDK asks for it (`v:1`), decrypted with its master
/// key; and the attribute's version.
async fn keys_of(c: &mut Client) -> (KeysContainer, String) {
    let ug = c.cmd(json!({"a": "ug", "v": 1})).await;
    let attr = &ug[ATTRIBUTE];
    let keys = KeysContainer::decrypt_b64(attr["av"].as_str().unwrap(), c.master()).unwrap();
    (keys, attr["v"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn every_new_account_has_the_keys_an_official_client_writes() {
    let server = support::server()
        .account("v2@example.com", "pw", Version::V2)
        .account("v1@example.com", "pw", Version::V1)
        .start()
        .await;
    let mut seen = Vec::new();
    for email in ["v2@example.com", "v1@example.com"] {
        let mut c = Client::new(server.url());
        let user = c.login(email, "pw").await.unwrap();
        let (keys, version) = keys_of(&mut c).await;
        assert_eq!((keys.version(), keys.identity(), keys.generation()), (Some(1), Some(user), 1), "{email}");
        assert!(keys.creation_time().unwrap() > 1_700_000_000);
        let (ed, cu) = (keys.priv_ed25519().unwrap(), keys.priv_cu25519().unwrap());
        assert!(*ed != [0; 32] && *cu != [0; 32] && *ed != *cu);
        seen.push((*ed, *cu));
        assert!(keys.share_keys().is_empty());
        // The RSA record is the account's own key (the one `privk` holds): p, q, d.
        let ug = c.cmd(json!({"a": "ug", "v": 1})).await;
        // As the web client asks for it (no `v`): the bare b64 values.
        let web = c.cmd(json!({"a": "ug"})).await;
        for name in [ATTRIBUTE, "+puEd255", "+puCu255", "+sigCu255", "+sigPubk"] {
            assert_eq!(web[name], ug[name]["av"], "{name}");
        }
        let privk = PrivateKey::decrypt_privk(ug["privk"].as_str().unwrap(), c.master()).unwrap();
        let (p, q, d, _) = privk.components();
        let record = keys.priv_rsa().unwrap();
        let (rp, rest) = rsa::read_mpi(record).unwrap();
        let (rq, rest) = rsa::read_mpi(rest).unwrap();
        let (rd, rest) = rsa::read_mpi(rest).unwrap();
        assert!((&rp, &rq, &rd) == (p, q, d) && rest.is_empty(), "{email}: the RSA key in ^!keys");
        // The public halves beside it, as the SDK checks them at every login: derived from
        // the private keys in ^!keys, the Cu25519 and RSA public keys signed with Ed25519.
        let attr = |name: &str| b64::decode(ug[name]["av"].as_str().unwrap_or_else(|| panic!("{name} in ug")));
        let signing = ed25519_dalek::SigningKey::from_bytes(&ed);
        assert_eq!(attr("+puEd255"), signing.verifying_key().as_bytes());
        let cu_public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*cu)).to_bytes();
        assert_eq!(attr("+puCu255"), cu_public);
        let pubk = b64::decode(ug["pubk"].as_str().unwrap());
        let (n, rest) = rsa::read_mpi(&pubk).unwrap();
        let (e, _) = rsa::read_mpi(rest).unwrap();
        for (name, key) in
            [("+sigCu255", cu_public.to_vec()), ("+sigPubk", [n.to_bytes_be(), e.to_bytes_be()].concat())]
        {
            let sig = attr(name);
            assert_eq!(sig.len(), 72, "{name}: ts and signature");
            let message = [&b"keyauth"[..], &sig[..8], &key].concat();
            let signature = ed25519_dalek::Signature::from_slice(&sig[8..]).unwrap();
            signing.verifying_key().verify_strict(&message, &signature).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // `uga` gives the same value and version; another user cannot read it.
        let uga = c.cmd(json!({"a": "uga", "ua": ATTRIBUTE, "v": 1})).await;
        assert_eq!(uga, ug[ATTRIBUTE], "{email}");
        assert_eq!(uga["v"], version.as_str());
        let mut other = Client::new(server.url());
        let other_email = if email.starts_with("v2") { "v1@example.com" } else { "v2@example.com" };
        other.login(other_email, "pw").await.unwrap();
        let theirs = json!({"a": "uga", "u": user.to_b64(), "ua": ATTRIBUTE});
        assert_eq!(other.cmd(theirs).await, json!(-11));
    }
    assert_ne!(seen[0], seen[1], "each account its own keys");
    server.stop().await;
}

#[tokio::test]
async fn keys_are_written_only_over_the_version_last_read() {
    let server = support::server_with_account().await;
    let mut c = Client::new(server.url());
    c.login(support::EMAIL, support::PASSWORD).await.unwrap();
    let sn = c.tree().await["sn"].as_str().unwrap().to_string();
    let (mut keys, v1) = keys_of(&mut c).await;
    let before = c.cmd(json!({"a": "uga", "ua": ATTRIBUTE, "v": 1})).await;
    // Rewritten as a client does: a share key added, the generation bumped, a fresh IV.
    keys.put_share_key(mega_proto::keymgr::ShareKey {
        handle: NodeHandle([1; 6]),
        key: Key128::new([7; 16]),
        flags: 3,
    });
    keys.bump_generation();
    let av = keys.encrypt_b64(c.master(), &mut rand_core::OsRng);
    // No version: refused, nothing changed (a blind write would lose the share keys in it).
    assert_eq!(c.cmd(json!({"a": "upv", ATTRIBUTE: [av, ""]})).await, json!(-8));
    assert_eq!(c.cmd(json!({"a": "upv", ATTRIBUTE: av})).await, json!(-8));
    // A stale version: refused with EEXPIRED, as the SDK expects.
    assert_eq!(c.cmd(json!({"a": "upv", ATTRIBUTE: [av, "AAAAAAAAAAA"]})).await, json!(-8));
    assert_eq!(c.cmd(json!({"a": "uga", "ua": ATTRIBUTE, "v": 1})).await, before, "unchanged");
    // Over the version last read: stored, with a new version; that one is now stale.
    let v2 = c.cmd(json!({"a": "upv", ATTRIBUTE: [av, v1]})).await[ATTRIBUTE].as_str().unwrap().to_string();
    assert_ne!(v1, v2);
    assert_eq!(c.cmd(json!({"a": "upv", ATTRIBUTE: [av, v1]})).await, json!(-8), "the old version is stale");
    let (read, v) = keys_of(&mut c).await;
    assert_eq!((read.generation(), v), (2, v2.clone()));
    assert_eq!(read.share_key(NodeHandle([1; 6])).unwrap().key, Key128::new([7; 16]));
    // The other sessions hear of it.
    let sc = c.sc(&sn).await;
    let ua = sc["a"].as_array().unwrap().iter().find(|p| p["a"] == "ua").unwrap().clone();
    assert_eq!((ua["ua"][0].as_str(), ua["v"][0].as_str()), (Some(ATTRIBUTE), Some(v2.as_str())));
    server.stop().await;
}

/// The names of the folders and files among `nodes`, decrypted with the user's own key entries
/// (`me`, when not empty) and otherwise with the share keys of `^!keys` alone (no `ok`, no
/// `sk`). Panics on a node that does not decrypt.
fn decrypt_with(nodes: &[client::Decrypted], keys: &KeysContainer, master: &Key128, me: &str) -> Vec<String> {
    use mega_proto::attr::Attributes;
    use mega_proto::keys::{KeyField, KeyOwner};
    let mut names = Vec::new();
    for n in nodes.iter().filter(|n| n.t <= 1) {
        let field = KeyField::parse(n.raw["k"].as_str().unwrap()).unwrap();
        let key = field.entries.iter().find_map(|(owner, wrapped)| {
            let kek = match owner {
                KeyOwner::User(u) if u.to_b64() == me => master.clone(),
                KeyOwner::Share(s) => keys.share_key(*s)?.key,
                KeyOwner::User(_) => return None,
            };
            NodeKey::from_bytes(&wrapped.unwrap_aes(&kek).ok()?).ok()
        });
        let key = key.unwrap_or_else(|| panic!("{} does not decrypt from ^!keys", n.h));
        names.push(
            Attributes::decrypt_b64(n.raw["a"].as_str().unwrap(), &key.attr_key()).unwrap().name().unwrap().into(),
        );
    }
    names
}

#[tokio::test]
async fn official_apps_shares_keep_their_keys_only_in_keys() {
    let server = support::server()
        .official_apps()
        .account("owner@example.com", "pw", Version::V2)
        .account("guest@example.com", "pw", Version::V2)
        .start()
        .await;
    let data = content(300_000, 3);
    server.seed_bytes("owner@example.com", "/Holiday/plan.bin", &data, 1).unwrap();
    server.seed_bytes("owner@example.com", "/Holiday/day 1/photo.bin", b"photo", 1).unwrap();
    let link = server.folder_link("owner@example.com", "/Holiday").unwrap();
    server.share_folder("owner@example.com", "/Holiday", "guest@example.com", 0).unwrap();
    let holiday = server.find("owner@example.com", "/Holiday").unwrap();

    // The owner: a dummy `ok`/`ha`, the key in ^!keys (trusted, in use), the link's key.
    let mut owner = Client::new(server.url());
    let me = owner.login("owner@example.com", "pw").await.unwrap().to_b64();
    let f = owner.tree().await;
    assert_eq!(f["ok"], json!([{"h": holiday.to_b64(), "ha": DUMMY, "k": DUMMY}]));
    let (keys, version) = keys_of(&mut owner).await;
    assert!(keys.generation() >= 2, "rewritten by the share");
    let share = keys.share_key(holiday).unwrap();
    assert!(share.trusted() && share.in_use());
    let parsed = mega_proto::link::parse_plain(&link).unwrap();
    assert_eq!(parsed.require_key().unwrap().to_bytes().as_slice(), share.key.as_bytes(), "the link's key");
    let wrapped_dummy = owner.master().unwrap(&b64::decode(DUMMY)).unwrap();
    assert_ne!(&wrapped_dummy[..], share.key.as_bytes(), "`ok` opens nothing");
    let nodes = owner.decrypted_tree().await;
    let root = owner.root(2).await;
    let holiday_nodes: Vec<_> = nodes.iter().filter(|n| n.h == holiday.to_b64() || n.p != root).cloned().collect();
    let mut names = decrypt_with(&holiday_nodes, &keys, owner.master(), "");
    names.sort();
    assert_eq!(names, ["Holiday", "day 1", "photo.bin", "plan.bin"]);
    // A visitor with the link opens it.
    let mut visited: Vec<String> = owner.folder_link_files(&parsed).await.into_iter().map(|(n, _, _)| n).collect();
    visited.sort();
    assert_eq!(visited, ["photo.bin", "plan.bin"]);

    // A client that would re-key the share gets the stored `ok`/`ha` back, and nothing changes.
    let s2 = owner.export_s2(&holiday.to_b64(), &Key128::new([0x77; 16]), None).await;
    assert_eq!(s2, json!({"ok": DUMMY, "ha": DUMMY}));
    assert_eq!(owner.tree().await["ok"], f["ok"]);
    assert_eq!(keys_of(&mut owner).await.1, version, "^!keys untouched");

    // The guest: a share root without `sk`, the key in their own ^!keys.
    let mut guest = Client::new(server.url());
    let guest_me = guest.login("guest@example.com", "pw").await.unwrap().to_b64();
    let f = guest.tree().await;
    let share_root = f["f"].as_array().unwrap().iter().find(|n| n.get("su").is_some()).unwrap().clone();
    assert!(share_root.get("sk").is_none(), "{share_root}");
    assert_eq!((share_root["su"].as_str(), share_root["r"].as_u64()), (Some(me.as_str()), Some(0)));
    let (guest_keys, _) = keys_of(&mut guest).await;
    assert_eq!(guest_keys.share_key(holiday).unwrap().key, share.key);
    let nodes = guest.decrypted_tree().await;
    assert!(nodes.iter().filter(|n| n.t <= 1).all(|n| n.key.is_none()), "nothing opens without ^!keys");
    let shared: Vec<_> = nodes.iter().filter(|n| n.t <= 1).cloned().collect();
    let mut names = decrypt_with(&shared, &guest_keys, guest.master(), &guest_me);
    names.sort();
    assert_eq!(names, ["Holiday", "day 1", "photo.bin", "plan.bin"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_drive_with_official_apps_has_such_a_link_and_share() {
    use mega_testserver::demo;
    let server = support::server().official_apps().start().await;
    let d = server.seed_demo().unwrap();
    let mut c = Client::new(server.url());
    let me = c.login(demo::EMAIL, demo::PASSWORD).await.unwrap().to_b64();
    let (keys, _) = keys_of(&mut c).await;
    let f = c.tree().await;
    let oks: Vec<&Value> = f["ok"].as_array().unwrap().iter().collect();
    let music = server.find(demo::EMAIL, demo::APP_FOLDER_LINK_PATH).unwrap();
    let photos = server.find(demo::EMAIL, demo::FOLDER_LINK_PATH).unwrap();
    // The documented link stays a legacy one; /Music is exported as the apps do.
    assert!(oks.iter().any(|o| o["h"] == photos.to_b64().as_str() && o["k"] != DUMMY));
    assert!(oks.iter().any(|o| o["h"] == music.to_b64().as_str() && o["k"] == DUMMY));
    let link = mega_proto::link::parse_plain(d.app_folder_link.as_deref().unwrap()).unwrap();
    assert_eq!(link.require_key().unwrap().to_bytes().as_slice(), keys.share_key(music).unwrap().key.as_bytes());
    assert!(!c.folder_link_files(&link).await.is_empty(), "the link opens");
    // Two incoming shares: the legacy one with `sk`, the apps' one without, its key in ^!keys.
    let nodes = c.decrypted_tree().await;
    let roots: Vec<&client::Decrypted> = nodes.iter().filter(|n| n.raw.get("su").is_some()).collect();
    assert_eq!(roots.len(), 2);
    let legacy = roots.iter().find(|n| n.raw.get("sk").is_some()).unwrap();
    assert_eq!(legacy.name, demo::SHARED_FOLDER);
    let app = roots.iter().find(|n| n.raw.get("sk").is_none()).unwrap();
    let below: Vec<_> = client::paths_below(&nodes, &app.h).into_iter().map(|(_, n)| n.clone()).collect();
    let mut with_root = vec![(*app).clone()];
    with_root.extend(below);
    let mut names = decrypt_with(&with_root, &keys, c.master(), &me);
    names.sort();
    assert_eq!(names, ["Ski weekend", "gear-list.md", "lift-pass.csv"]);
    server.stop().await;
}

#[tokio::test]
async fn an_account_saved_without_keys_gets_them_when_loaded() {
    let dir = support::temp_dir();
    let config = || mega_testserver::Config { data: Some(dir.path().to_path_buf()), ..Default::default() };
    let server = support::server().config(config()).account("old@example.com", "pw", Version::V2).start().await;
    server.stop().await;
    // A data directory from before the server wrote `^!keys`.
    let state = dir.path().join("state.json");
    let mut snap: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    for pair in snap["user_attrs"].as_array_mut().unwrap() {
        assert!(pair[1].as_object_mut().unwrap().remove(ATTRIBUTE).is_some(), "saved with ^!keys");
    }
    std::fs::write(&state, serde_json::to_vec(&snap).unwrap()).unwrap();
    let server = support::server().config(config()).start().await;
    let mut c = Client::new(server.url());
    let user = c.login("old@example.com", "pw").await.unwrap();
    let (keys, _) = keys_of(&mut c).await;
    assert_eq!((keys.identity(), keys.generation()), (Some(user), 1));
    assert!(keys.priv_rsa().is_some() && keys.priv_ed25519().is_some());
    let ug = c.cmd(json!({"a": "ug", "v": 1})).await;
    assert!(["+puEd255", "+puCu255", "+sigCu255", "+sigPubk"].iter().all(|a| ug[a]["av"].is_string()), "{ug}");
    server.stop().await;
}
