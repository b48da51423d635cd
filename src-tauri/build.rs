//! Tauri's build step. The app manifest lists every command, so each gets an `allow-*`
//! permission and a command that `capabilities/` does not grant is refused at the IPC edge.

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    // The window and bundle icons are embedded: remade by `make icons`, they rebuild the app.
    println!("cargo:rerun-if-changed=icons");
    let manifest = tauri_build::AppManifest::new().commands(tuatara_commands::ALL);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri build step");
}

#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "src/command_list.rs"]
mod tuatara_commands;
