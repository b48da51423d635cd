//! The command endpoint `POST /cs` (spec §1.2, §1.3, §8.3, §8.4): a JSON array of commands in,
//! an array of results out, request-level failures as a bare integer, re-sent requests replayed.

use mega_proto::{ErrorCode, UserHandle};
use serde_json::{json, Value};

use crate::store::Store;
use crate::{files, login, nodes, transfer};

/// A command's failure: a MEGA error code.
pub type CmdResult = Result<Value, ErrorCode>;

/// What a command runs with.
pub struct Ctx<'a> {
    /// The state.
    pub store: &'a mut Store,
    /// The logged-in user, if the request carried a valid sid.
    pub user: Option<UserHandle>,
    /// The raw sid of the request.
    pub sid: Option<Vec<u8>>,
    /// The server's base URL, ending in `/`.
    pub base: &'a str,
    /// Inside a folder link (`&n=`): the exported folder, or an error if the link is unknown.
    pub folder_link: Option<Result<mega_proto::NodeHandle, ErrorCode>>,
}

impl Ctx<'_> {
    /// The logged-in user, or ESID.
    pub fn user(&self) -> Result<UserHandle, ErrorCode> {
        self.user.ok_or(ErrorCode::Sid)
    }
}

/// A string argument.
pub fn arg_str<'v>(cmd: &'v Value, key: &str) -> Result<&'v str, ErrorCode> {
    cmd.get(key).and_then(Value::as_str).ok_or(ErrorCode::Args)
}

/// An integer argument, also accepted as a decimal string (clients differ).
pub fn arg_int(cmd: &Value, key: &str) -> Option<i64> {
    match cmd.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Runs one command; its result as JSON text (the tree of `f` is written straight to text:
/// building a million JSON values first would make the server what a benchmark measures).
pub fn dispatch(ctx: &mut Ctx<'_>, cmd: &Value) -> String {
    if cmd.get("a").and_then(Value::as_str) == Some("f") {
        return nodes::fetch(ctx, cmd).unwrap_or_else(|e| e.code().to_string());
    }
    dispatch_value(ctx, cmd).to_string()
}

fn dispatch_value(ctx: &mut Ctx<'_>, cmd: &Value) -> Value {
    let Some(name) = cmd.get("a").and_then(Value::as_str) else {
        return json!(ErrorCode::Args.code());
    };
    let result = match name {
        "us0" => login::us0(ctx, cmd),
        "us" => login::us(ctx, cmd),
        "ug" => login::ug(ctx, cmd),
        "uq" => login::uq(ctx, cmd),
        "sml" => login::sml(ctx, cmd),
        "uk" => login::uk(ctx, cmd),
        "p" => nodes::put(ctx, cmd),
        "m" => nodes::move_node(ctx, cmd),
        "d" => nodes::delete(ctx, cmd),
        "a" => nodes::set_attr(ctx, cmd),
        "l" => nodes::link(ctx, cmd),
        "s2" => nodes::share(ctx, cmd),
        "u" => transfer::upload_url(ctx, cmd),
        "g" => transfer::download(ctx, cmd),
        "ufa" => files::ufa(ctx, cmd),
        "pfa" => files::pfa(ctx, cmd),
        // Accepted and ignored, as the service does for a client that does not need them.
        "log" | "k" => Ok(json!(0)),
        "upv" => login::upv(ctx, cmd),
        "uga" => login::uga(ctx, cmd),
        _ => Err(ErrorCode::Args),
    };
    result.unwrap_or_else(|e| json!(e.code()))
}
