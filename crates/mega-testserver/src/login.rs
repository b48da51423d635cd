//! Login and account commands: `us0`, `us`, `ug`, `uq`, `sml`, `uk` (spec §2, §6.8).

use mega_proto::login::Sid;
use mega_proto::{b64, ErrorCode, Key128};
use rand_core::OsRng;
use serde_json::{json, Value};

use crate::account::Verifier;
use crate::api::{arg_int, arg_str, CmdResult, Ctx};
use crate::store::{random, Session};

/// `us0`: the account version and, for v2, the salt. Unknown e-mails get ENOENT.
pub(crate) fn us0(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let email = arg_str(cmd, "user")?.to_lowercase();
    let user = ctx.store.by_email.get(&email).ok_or(ErrorCode::NotFound)?;
    Ok(match &ctx.store.accounts[user].verifier {
        Verifier::V1(_) => json!({"v": 1}),
        Verifier::V2 { salt, .. } => json!({"v": 2, "s": b64::encode(salt)}),
    })
}

/// `us`: a login with e-mail and `uh`, or (no `user`, a sid in the query) a session check.
pub(crate) fn us(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let sek = cmd.get("sek").and_then(Value::as_str).map(str::to_string);
    let Some(email) = cmd.get("user").and_then(Value::as_str) else {
        // Session resumption: answer with what the session was created with.
        let user = ctx.user()?;
        let session = ctx.sid.as_ref().and_then(|s| ctx.store.sessions.get(s)).ok_or(ErrorCode::Sid)?;
        let account = &ctx.store.accounts[&user];
        let mut reply = json!({"u": user.to_b64(), "k": account.k, "privk": account.privk, "ach": 1});
        if let Some(s) = &session.sek {
            reply["sek"] = json!(s);
        }
        return Ok(reply);
    };
    let uh = arg_str(cmd, "uh")?;
    let user = *ctx.store.by_email.get(&email.to_lowercase()).ok_or(ErrorCode::NotFound)?;
    let account = &ctx.store.accounts[&user];
    if !account.check_uh(uh) {
        return Err(ErrorCode::NotFound);
    }
    // A missing or wrong code: EMFAREQUIRED (the spec leaves -26 vs -9 open; §9).
    if !account.check_mfa(cmd.get("mfa").and_then(Value::as_str)) {
        return Err(ErrorCode::MfaRequired);
    }
    // A sid whose first byte is zero decrypts correctly only in clients that left-pad the RSA
    // result (the SDK); megajs and go-mega strip leading zeros and fail such a login (spec
    // §2.5). The server chooses those bytes, so it never hands one out.
    let sid = std::iter::repeat_with(|| Sid::generate(user, &mut OsRng))
        .find(|s| s.as_bytes()[0] != 0)
        .unwrap_or_else(|| Sid::generate(user, &mut OsRng));
    let csid = account.public.encrypt_csid(&sid, &mut OsRng).map_err(|_| ErrorCode::Internal)?;
    let mut reply = json!({
        "csid": csid,
        "privk": account.privk,
        "k": account.k,
        "u": user.to_b64(),
        "ach": 1,
    });
    if let Some(s) = &sek {
        reply["sek"] = json!(s);
    }
    ctx.store.sessions.insert(sid.as_bytes().to_vec(), Session { user, sek });
    Ok(reply)
}

/// `ug`: the current user.
pub(crate) fn ug(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let a = &ctx.store.accounts[&user];
    // `ts`: 16 random bytes and their encryption under the master key (spec §2.8).
    let ssc: [u8; 16] = random();
    let mut enc = ssc;
    let _ = Key128::ecb_encrypt(&a.master, &mut enc);
    let ts = [ssc, enc].concat();
    let mut reply = json!({
        "u": user.to_b64(),
        "email": a.email,
        "name": a.name,
        "k": a.k,
        "privk": a.privk,
        "pubk": a.pubk,
        "ts": b64::encode(&ts),
        "c": 1,
        "s": 0,
        "since": a.since,
        "flags": {},
    });
    // The account version, and a v2 account's salt (the SDK reads them from here).
    match &a.verifier {
        Verifier::V1(_) => reply["aav"] = json!(1),
        Verifier::V2 { salt, .. } => {
            reply["aav"] = json!(2);
            reply["aas"] = json!(b64::encode(salt));
        }
    }
    // The key attributes, as `uga` gives them: `{"av","v"}` with `v:1` (the SDK), else the bare
    // b64 value (the web client, which decodes `^` attributes itself). Clients of today read
    // `^!keys` from here rather than asking for it.
    let versioned = arg_int(cmd, "v") == Some(1);
    if let Some(attrs) = ctx.store.user_attrs.get(&user) {
        for name in UG_ATTRIBUTES {
            if let Some(v) = attrs.get(name) {
                reply[name] = if versioned { v.clone() } else { v["av"].clone() };
            }
        }
    }
    Ok(reply)
}

/// The user attributes `ug` carries when set.
const UG_ATTRIBUTES: [&str; 6] = ["^!keys", "*keyring", "+puEd255", "+puCu255", "+sigPubk", "+sigCu255"];

/// `uq`: storage and transfer quota, with real accounting of what is stored.
pub(crate) fn uq(ctx: &mut Ctx<'_>, _cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let a = &ctx.store.accounts[&user];
    let mut per_root = serde_json::Map::new();
    let mut used = 0;
    for root in a.roots {
        let (bytes, files, folders) = ctx.store.usage(root);
        used += bytes;
        per_root.insert(root.to_b64(), json!([bytes, files, folders, 0, 0]));
    }
    Ok(json!({
        "mstrg": a.storage_max,
        "cstrg": used,
        "cstrgn": per_root,
        "mxfer": a.transfer_max,
        "caxfer": a.transfer_used,
        "csxfer": 0,
        "srvratio": 0,
        "bt": ctx.store.quota_window - ctx.store.quota_time_left(),
        "utype": 0,
        "uslw": 9000,
    }))
}

/// `sml`: logs out, invalidating the sid.
pub(crate) fn sml(ctx: &mut Ctx<'_>, _cmd: &Value) -> CmdResult {
    ctx.user()?;
    if let Some(sid) = &ctx.sid {
        ctx.store.sessions.remove(sid);
    }
    Ok(json!(0))
}

/// `uk`: a user's public key.
pub(crate) fn uk(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let who = match cmd.get("u").and_then(Value::as_str) {
        Some(u) if u.contains('@') => *ctx.store.by_email.get(&u.to_lowercase()).ok_or(ErrorCode::NotFound)?,
        Some(u) => mega_proto::UserHandle::from_b64(u).map_err(|_| ErrorCode::Args)?,
        None => ctx.user()?,
    };
    let a = ctx.store.accounts.get(&who).ok_or(ErrorCode::NotFound)?;
    Ok(json!({"u": who.to_b64(), "pubk": a.pubk}))
}

/// Names a `upv`/`uga` request may not use as attribute names.
const NOT_ATTRIBUTES: [&str; 3] = ["a", "i", "v"];

/// The key manager's user attribute (spec §6.10).
pub(crate) const KEYS_ATTRIBUTE: &str = mega_proto::keymgr::ATTRIBUTE;

/// `upv`: stores user attributes, `{"<name>": ["<value>", "<version>"]}` (or a bare value).
/// A version that is not the current one is a conflict (`-8`, EEXPIRED, as the SDK expects),
/// and so is a versionless write of an existing `^!keys`; the reply maps each name to its new
/// version.
pub(crate) fn upv(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let obj = cmd.as_object().ok_or(ErrorCode::Args)?;
    let mut updates = Vec::new();
    for (name, v) in obj.iter().filter(|(k, _)| !NOT_ATTRIBUTES.contains(&k.as_str())) {
        let (value, version) = match v {
            Value::String(s) => (s.clone(), None),
            Value::Array(a) => match (a.first().and_then(Value::as_str), a.get(1).and_then(Value::as_str)) {
                (Some(value), version) => (value.to_string(), version.filter(|v| !v.is_empty())),
                _ => return Err(ErrorCode::Args),
            },
            _ => return Err(ErrorCode::Args),
        };
        let current = ctx.store.user_attrs.get(&user).and_then(|m| m.get(name));
        match (version, current) {
            (Some(version), Some(current)) if current["v"].as_str() != Some(version) => {
                return Err(ErrorCode::Expired);
            }
            // The key manager's attribute is never replaced blind: a client that did not read
            // it first would lose the share keys in it.
            (None, Some(_)) if name == KEYS_ATTRIBUTE => return Err(ErrorCode::Expired),
            _ => {}
        }
        updates.push((name.clone(), value));
    }
    if updates.is_empty() {
        return Err(ErrorCode::Args);
    }
    let mut reply = serde_json::Map::new();
    for (name, value) in updates {
        let version = ctx.store.put_user_attr(user, &name, value);
        reply.insert(name, json!(version));
    }
    Ok(Value::Object(reply))
}

/// `uga`: one user attribute, `{"av","v"}` with `v:1`, else the bare value; `-9` when unset.
/// Another user's attributes are readable only when public (`+` names).
pub(crate) fn uga(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let me = ctx.user()?;
    let name = arg_str(cmd, "ua")?;
    let who = match cmd.get("u").and_then(Value::as_str) {
        Some(u) => mega_proto::UserHandle::from_b64(u).map_err(|_| ErrorCode::Args)?,
        None => me,
    };
    if who != me && !name.starts_with('+') {
        return Err(ErrorCode::Access);
    }
    let attr = ctx.store.user_attrs.get(&who).and_then(|m| m.get(name)).ok_or(ErrorCode::NotFound)?;
    if arg_int(cmd, "v") == Some(1) {
        Ok(attr.clone())
    } else {
        Ok(attr["av"].clone())
    }
}
