//! What the command table of [`command_list`](crate::command_list) gives besides the handler
//! and the permissions: the UI's TypeScript for the commands ([`write_commands`]), and a check,
//! at compile time, that each entry's arguments and result are its function's own.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ts_rs::{ExportError, TypeVisitor, TS};

use crate::command_list::ipc_commands;
#[allow(unused_imports)] // the table's types, named as the table names them
use crate::dto::*;
use crate::error::{IpcError, IpcResult};

/// The TypeScript of a `tauri::ipc::Channel<T>` argument: `Channel<T>` from `@tauri-apps/api/core`.
pub struct TsChannel<T>(PhantomData<T>);

impl<T: TS> TS for TsChannel<T> {
    type WithoutGenerics = TsChannel<ts_rs::Dummy>;
    type OptionInnerType = Self;

    fn ident() -> String {
        "Channel".into()
    }
    fn name() -> String {
        format!("Channel<{}>", T::name())
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        panic!("a Channel cannot be flattened")
    }
    fn decl() -> String {
        panic!("a Channel is declared by @tauri-apps/api")
    }
    fn decl_concrete() -> String {
        panic!("a Channel is declared by @tauri-apps/api")
    }
    fn visit_generics(v: &mut impl TypeVisitor)
    where
        Self: 'static,
    {
        T::visit_generics(v);
        v.visit::<T>();
    }
}

/// One command as the UI sees it.
struct Command {
    name: &'static str,
    /// camelCase key, TypeScript type, whether it may be left out.
    args: Vec<(String, String, bool)>,
    ret: String,
}

/// The types the commands name, by TypeScript name, with their files in `bindings/`; each
/// file is written as it is met.
struct Types<'a> {
    /// Where to write the bindings of the types met, if anywhere.
    dir: Option<&'a Path>,
    files: BTreeMap<String, PathBuf>,
    error: Option<ExportError>,
}

impl TypeVisitor for Types<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let Some(path) = T::output_path() else { return };
        if let Some(Err(e)) = self.dir.map(|dir| T::export_all_to(dir)) {
            self.error.get_or_insert(e);
        }
        self.files.insert(T::ident(), path);
    }
}

impl Types<'_> {
    /// `T`'s TypeScript name; `T` and its type arguments become imports.
    fn name<T: TS + 'static>(&mut self) -> String {
        self.visit::<T>();
        T::visit_generics(self);
        if TypeId::of::<T>() == TypeId::of::<()>() {
            "void".into()
        } else {
            T::name()
        }
    }

    /// An argument: an `Option` is one the UI may leave out (`key?: T`).
    fn arg<T: TS + 'static>(&mut self, rust_name: &str) -> (String, String, bool)
    where
        T::OptionInnerType: TS,
    {
        let name = self.name::<T>();
        if T::IS_OPTION {
            (camel(rust_name), <T::OptionInnerType as TS>::name(), true)
        } else {
            (camel(rust_name), name, false)
        }
    }
}

/// `snake_case` to `camelCase`, as Tauri names arguments and as the UI names methods.
fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        match c {
            '_' => up = true,
            c if up => {
                out.extend(c.to_uppercase());
                up = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The TypeScript an argument's type stands for: its own, or the one after `as`.
macro_rules! ts_type {
    ($ty:ty as $ts:ty) => {
        $ts
    };
    ($ty:ty) => {
        $ty
    };
}

/// The commands the UI calls (not the debug-only ones), described from the table.
macro_rules! describe {
    (
        app: [$($mode:ident $module:ident :: $name:ident [$($inj:ident),*]
            ($($arg:ident : $ty:ty $(as $ts:ty)?),*) -> $ret:ty;)*]
        debug_only: [$($debug:tt)*]
    ) => {
        fn declared(types: &mut Types<'_>) -> Vec<Command> {
            vec![$(Command {
                name: stringify!($name),
                args: vec![$(types.arg::<ts_type!($ty $(as $ts)?)>(stringify!($arg))),*],
                ret: types.name::<$ret>(),
            }),*]
        }
    };
}
ipc_commands!(describe);

/// Writes `commands.ts` into `dir` (the UI's `bindings/`), with the bindings of the types it
/// names: per command its name, its arguments, its result, and a wrapper over `invoke`.
pub fn write_commands(dir: &Path) -> Result<(), ExportError> {
    let mut types = Types { dir: Some(dir), files: BTreeMap::new(), error: None };
    let commands = declared(&mut types);
    if let Some(e) = types.error {
        return Err(e);
    }
    let mut ts = String::from(
        "// Generated from the command table in src-tauri/src/command_list.rs: do not edit.\n\
         // `TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app --test app bindings` rewrites it.\n",
    );
    if commands.iter().any(|c| c.args.iter().any(|a| a.1.starts_with("Channel<"))) {
        ts.push_str("import type { Channel } from '@tauri-apps/api/core';\n");
    }
    for (name, path) in &types.files {
        let module = path.with_extension("");
        writeln!(ts, "import type {{ {name} }} from './{}';", module.display())?;
    }
    ts.push_str("\n/** Every command the UI may call, by its Rust name. */\nexport const COMMANDS = [\n");
    for c in &commands {
        writeln!(ts, "  '{}',", c.name)?;
    }
    ts.push_str("] as const;\n\n/** A command's Rust name. */\nexport type CommandName = (typeof COMMANDS)[number];\n");
    ts.push_str("\n/** Each command as a method: camelCase name, its arguments (camelCase keys), its result. */\n");
    ts.push_str("export interface Commands {\n");
    for c in &commands {
        let args = if c.args.is_empty() {
            String::new()
        } else {
            let fields: Vec<String> =
                c.args.iter().map(|(k, t, opt)| format!("{k}{}: {t}", if *opt { "?" } else { "" })).collect();
            format!("args: {{ {} }}", fields.join("; "))
        };
        writeln!(ts, "  /** `{}` */\n  {}({args}): Promise<{}>;", c.name, camel(c.name), c.ret)?;
    }
    ts.push_str(
        "}\n\n/** How the wrappers reach Rust: Tauri's `invoke`, errors mapped (see ../tauri.ts). */\n\
         export type Invoke = <T>(command: CommandName, args?: Record<string, unknown>) => Promise<T>;\n\
         \n/** A typed wrapper over `invoke` for every command. */\n\
         export function commands(invoke: Invoke): Commands {\n  return {\n",
    );
    for c in &commands {
        let (param, pass) = if c.args.is_empty() { ("", "") } else { ("args", ", args") };
        writeln!(ts, "    {}: ({param}) => invoke<{}>('{}'{pass}),", camel(c.name), c.ret, c.name)?;
    }
    ts.push_str("  };\n}\n");
    std::fs::write(dir.join("commands.ts"), ts)?;
    Ok(())
}

/// Each command the UI calls with the keys of its arguments, as the table declares them (the
/// tests check them against what the commands take).
pub fn argument_keys() -> Vec<(&'static str, Vec<String>)> {
    let mut types = Types { dir: None, files: BTreeMap::new(), error: None };
    declared(&mut types).into_iter().map(|c| (c.name, c.args.into_iter().map(|a| a.0).collect())).collect()
}

/// A command's result as the table declares it: `T`, or `IpcResult<T>`, both are `T` to the UI.
trait Returns<T> {
    fn into_ipc(self) -> IpcResult<T>;
}

impl<T> Returns<T> for T {
    fn into_ipc(self) -> IpcResult<T> {
        Ok(self)
    }
}

impl<T> Returns<T> for Result<T, IpcError> {
    fn into_ipc(self) -> IpcResult<T> {
        self
    }
}

/// One function per entry that calls the command with the declared parameters and takes the
/// declared result: a table that disagrees with a command's signature does not compile.
macro_rules! check_signatures {
    (app: [$($entry:tt)*] debug_only: [$($debug:tt)*]) => {
        check_signatures!(@entries $($entry)* $($debug)*);
    };
    (@entries $($mode:ident $module:ident :: $name:ident [$($inj:ident),*]
        ($($arg:ident : $ty:ty $(as $ts:ty)?),*) -> $ret:ty;)*) => {
        $(
            #[allow(dead_code, clippy::too_many_arguments, clippy::extra_unused_type_parameters)]
            async fn $name<R: tauri::Runtime>($($inj: check_signatures!(@inj $inj),)* $($arg: $ty,)*) {
                let result = check_signatures!(@call $mode crate::commands::$module::$name($($inj,)* $($arg,)*));
                let _: IpcResult<$ret> = Returns::<$ret>::into_ipc(result);
            }
        )*
    };
    (@inj app) => { tauri::AppHandle<R> };
    (@inj window) => { tauri::WebviewWindow<R> };
    (@inj state) => { tauri::State<'_, crate::state::AppState> };
    (@call async $call:expr) => { $call.await };
    (@call sync $call:expr) => { $call };
}

/// The table against the commands' signatures.
mod signatures {
    use super::*;
    use tauri::ipc::Channel;

    ipc_commands!(check_signatures);
}
