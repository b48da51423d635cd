//! The `tuatara` binary: Tuatara's desktop app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tuatara_app::run();
}
