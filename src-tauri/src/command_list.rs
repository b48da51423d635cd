//! The app's IPC commands, declared once. Everything else about them comes from the table in
//! `ipc_commands!` below:
//! - the invoke handler (`tauri::generate_handler!` in `lib.rs`),
//! - the `allow-*` permissions (`build.rs` includes this very file and reads [`ALL`]), which
//!   `capabilities/default.json` grants (a test checks it grants exactly the app's commands),
//! - the UI's typed wrappers and signatures, generated into `ui/src/lib/ipc/bindings/commands.ts`
//!   (`ipc::write_commands`; the bindings drift test fails when the committed file is stale),
//! - a compile-time check that each entry's arguments and result are the function's own
//!   (`ipc.rs`), and a test that docs/IPC.md names every command.
//!
//! # Adding a command
//! 1. Write the `#[tauri::command]` in its module under `commands/` (injected parameters first,
//!    in the order `app`, `window`, `state`; then the UI's arguments).
//! 2. Add a line to the table below: `async` or `sync`, `module::name`, the injected
//!    parameters in brackets, the UI's arguments with their Rust types (their names are the IPC
//!    keys, camelCased by Tauri), and the result without `IpcResult` (`()` for none). An argument
//!    whose Rust type has no TypeScript twin names one after `as` (e.g. `Handles as Vec<Handle>`).
//! 3. `TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app --test app bindings` regenerates the
//!    TypeScript; `build.rs` makes its `allow-*` permission; grant it in
//!    `capabilities/default.json`, describe it in docs/IPC.md and implement it in the UI's mock
//!    (`ui/src/lib/ipc/mock.ts`: the `Backend` interface now asks for it).
//!
//! Commands under `debug_only` exist for the tests alone: they are registered in debug builds
//! only (the tests and `make e2e` run a debug build), get a permission that no capability
//! grants, and have no TypeScript wrapper.
//!
//! tauri-specta would give the same from the function signatures, but it stands on specta's
//! 2.0 release candidates and would replace ts-rs, which generates the DTOs' types here; a
//! `macro_rules!` table keeps ts-rs and needs no new dependency.

/// The table of commands, handed to the macro `$then` (a callback that picks what it needs).
/// Entry: `async|sync module::name[injected, ...](arg: Type [as TsType], ...) -> Result;`
macro_rules! ipc_commands {
    ($then:ident) => {
        $then! {
            app: [
                sync session::app_info[]() -> AppInfo;
                async session::session_restore[app, state]() -> Option<Account>;
                async session::login[app, state](
                    email: String, password: String, remember: bool, api_url: Option<String>
                ) -> LoginStep;
                async session::submit_mfa[app, state](code: String) -> Account;
                async session::open_demo[app, state]() -> Account;
                async session::logout[state]() -> ();
                async drive::quota[state]() -> Quota;
                async drive::roots[state]() -> Roots;
                async drive::list_folder[state](handle: Handle) -> Listing;
                async drive::subfolders[state](handle: Handle) -> Vec<NodeDto>;
                async drive::search[state](query: String, under: MaybeHandle as Option<Handle>) -> Vec<NodeDto>;
                async drive::thumbnail[state](handle: Handle) -> Option<String>;
                async drive::properties[state](handle: Handle) -> Properties;
                async drive::mkdir[state](parent: Handle, name: String) -> NodeDto;
                async drive::rename[state](handle: Handle, name: String) -> ();
                async drive::move_nodes[state](handles: Handles as Vec<Handle>, target: Handle) -> ();
                async drive::trash[state](handles: Handles as Vec<Handle>) -> ();
                async drive::restore[state](handles: Handles as Vec<Handle>) -> ();
                async drive::delete_forever[state](handles: Handles as Vec<Handle>) -> ();
                async drive::get_link[state](handle: Handle, password: Option<String>) -> LinkDto;
                async drive::export_folder_links[state](handle: Handle) -> Vec<String>;
                async drive::link_remove[state](handle: Handle) -> ();
                async drive::resolve_duplicates[state](handle: Handle, mode: DuplicateMode) -> ();
                sync transfers::transfers_subscribe[window, state](
                    on_event: Channel<TransferEvent> as TsChannel<TransferEvent>
                ) -> Vec<TransferDto>;
                async transfers::download[state](handles: Handles as Vec<Handle>, dest: Option<String>) -> Vec<String>;
                async transfers::upload[state](paths: Vec<String>, parent: Handle) -> Vec<String>;
                async transfers::transfer_control[state](id: String, action: TransferAction) -> ();
                async transfers::transfers_pause_all[state](paused: bool) -> ();
                sync transfers::transfers_clear_finished[state]() -> ();
                sync transfers::reveal[app, state](id: String) -> ();
                async links::links_check[state](
                    text: String, keys: Option<String>, password: Option<String>
                ) -> Vec<LinkCheck>;
                async links::links_unlock[state](
                    link: String, password: Option<String>, key: Option<String>
                ) -> LinkCheck;
                async links::links_download[state](links: Vec<String>, dest: String) -> Vec<String>;
                async links::links_import[state](links: Vec<String>, parent: Handle) -> ();
                async links::folder_link_open[state](link: String) -> FolderLinkDto;
                async links::folder_link_download[state](
                    link: String, handles: Handles as Vec<Handle>, dest: String
                ) -> Vec<String>;
                sync outside::startup_links[state]() -> Vec<String>;
                async links::links_save[](path: String, links: Vec<String>) -> ();
                async links::links_export_save[state](
                    handle: Handle, path: String, format: ListFormat, key_file: Option<String>,
                    password: Option<String>, as_folder: bool
                ) -> usize;
                sync links::links_received[state]() -> Vec<ReceivedLink>;
                async links::links_received_check[state]() -> Vec<ReceivedLink>;
                sync links::links_received_forget[state](ids: Vec<String>) -> ();
                async links::links_shared[state]() -> Vec<SharedLinkDto>;
                async links::links_shared_check[state]() -> Vec<SharedLinkCheck>;
                sync watches::watch_list[state]() -> Vec<WatchDto>;
                async watches::watch_add[state](
                    local: String, remote: String, ignore: Option<Vec<String>>, trash_deleted: Option<bool>
                ) -> WatchDto;
                async watches::watch_add_links[state](source: String, dest: String) -> WatchDto;
                async watches::watch_pause[state](id: String, paused: bool) -> ();
                async watches::watch_remove[state](id: String) -> ();
                sync settings::settings_get[state]() -> Settings;
                async settings::settings_set[app, state](settings: Settings) -> ();
                sync settings::diagnostics_export[app, state](path: String) -> ();
                async viewer::stream_url[state](handle: Handle) -> StreamDto;
                async viewer::folder_link_stream_url[state](link: String, handle: Handle) -> StreamDto;
                async viewer::stream_integrity[state](id: String) -> StreamIntegrity;
                async viewer::stream_text[state](id: String) -> TextPreview;
                async viewer::stream_read[state](id: String, offset: u64 as f64, length: u64 as f64) -> String;
                async viewer::stream_open_external[app, state](id: String) -> ();
                async viewer::preview[state](handle: Handle) -> Option<String>;
            ]
            debug_only: [
                sync transfers::dropped_paths[state]() -> Vec<Vec<String>>;
            ]
        }
    };
}
pub(crate) use ipc_commands;

/// Turns the table into the name lists.
macro_rules! command_names {
    (
        app: [$($mode:ident $module:ident :: $name:ident $inj:tt $args:tt -> $ret:ty;)*]
        debug_only: [$($dmode:ident $dmodule:ident :: $dname:ident $dinj:tt $dargs:tt -> $dret:ty;)*]
    ) => {
        /// Every command, by name (each gets an `allow-*` permission).
        pub const ALL: &[&str] = &[$(stringify!($name),)* $(stringify!($dname),)*];
        /// The commands for the tests alone: registered in debug builds, granted by no capability.
        pub const DEBUG_ONLY: &[&str] = &[$(stringify!($dname),)*];
    };
}
ipc_commands!(command_names);
