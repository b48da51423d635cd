//! Login and account commands: `us0`, `us`, `ug`, `uq`, `sml`, `uk` (spec §2, §6.8).

use mega_proto::login::Sid;
use mega_proto::{b64, ErrorCode, Key128};
use rand_core::OsRng;
use serde_json::{json, Value};

use crate::account::Verifier;
use crate::api::{arg_str, CmdResult, Ctx};
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
    let sid = Sid::generate(user, &mut OsRng);
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
pub(crate) fn ug(ctx: &mut Ctx<'_>, _cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let a = &ctx.store.accounts[&user];
    // `ts`: 16 random bytes and their encryption under the master key (spec §2.8).
    let ssc: [u8; 16] = random();
    let mut enc = ssc;
    let _ = Key128::ecb_encrypt(&a.master, &mut enc);
    let ts = [ssc, enc].concat();
    Ok(json!({
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
    }))
}

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
