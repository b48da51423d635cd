//! mega-testserver's own tests, one binary with topic modules: the server against a minimal
//! client built from `mega-proto` and raw HTTP (`server`, the client in `client`), real
//! third-party clients against it (`peers`) and the binary as scripts use it (`cli`).

mod client;

mod cli;
mod keys;
mod peers;
mod replies;
mod server;
