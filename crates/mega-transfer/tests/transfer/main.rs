//! The transfer engine and its watches against `mega-testserver` on 127.0.0.1: one binary,
//! topic modules. Set-up shared with the other crates' tests comes from `test-support`; what
//! only these tests share (an engine on a drive) is in `support`.

// The soak and burst tests report their timings on stderr.
#![allow(clippy::print_stderr)]

mod support;

mod bounded;
mod stream;
mod transfer;
mod watch;
