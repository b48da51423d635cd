//! Tauri's build step. The app manifest lists every command, so each gets an `allow-*`
//! permission and a command that `capabilities/` does not grant is refused at the IPC edge.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(tuatara_commands::ALL);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri build step");
}

#[allow(unreachable_pub)]
#[path = "src/command_list.rs"]
mod tuatara_commands;
