//! The app's commands on Tauri's mock runtime with the real capabilities, against a real
//! `mega-testserver`: one binary, topic modules, shared helpers in `support`.

mod acl;
mod bindings;
mod drive;
mod session;
mod support;
mod transfers;
