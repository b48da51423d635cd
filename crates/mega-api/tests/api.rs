//! mega-api against mega-testserver on 127.0.0.1: one binary, topic modules.

#[path = "api/support.rs"]
mod support;

#[path = "api/login.rs"]
mod login;

#[path = "api/tree.rs"]
mod tree;

#[path = "api/links.rs"]
mod links;

#[path = "api/transfer.rs"]
mod transfer;

#[path = "api/faults.rs"]
mod faults;

#[path = "api/malformed.rs"]
mod malformed;

#[path = "api/at_rest.rs"]
mod at_rest;

#[path = "api/protected.rs"]
mod protected;

#[path = "api/hostile.rs"]
mod hostile;

#[path = "api/keys.rs"]
mod keys;
