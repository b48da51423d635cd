//! The app's commands on Tauri's mock runtime with the real capabilities, against a real
//! `mega-testserver`: one binary, topic modules, shared helpers in `support`.

// A test that needs the OS keyring says so on stderr when it is skipped.
#![allow(clippy::print_stderr)]

mod acl;
mod background;
mod bindings;
mod cache;
mod drive;
mod links;
mod logs;
mod official;
mod session;
mod support;
mod transfers;
mod viewer;
mod watches;
