//! The `#[tauri::command]`s of docs/IPC.md, by topic. Each unpacks the state, converts its
//! arguments, makes one library call and maps the error.

pub mod drive;
pub mod links;
pub mod outside;
pub mod session;
pub mod settings;
pub mod transfers;
pub mod viewer;
pub mod watches;
