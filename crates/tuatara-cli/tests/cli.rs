//! The `tuatara-cli` binary end to end against mega-testserver (and the real service when
//! `MEGA_TEST_USER`/`MEGA_TEST_PASSWORD` are set): real exit codes, stdout vs stderr, `--json`
//! parsed. One test binary, topic modules.
#![allow(clippy::print_stderr)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/conformance.rs"]
mod conformance;

#[path = "cli/accounts.rs"]
mod accounts;

#[path = "cli/keyring.rs"]
mod keyring;

#[path = "cli/demo.rs"]
mod demo;

#[path = "cli/peers.rs"]
mod peers;

#[path = "cli/official.rs"]
mod official;

#[path = "cli/transfers.rs"]
mod transfers;

#[path = "cli/interrupt.rs"]
mod interrupt;

#[path = "cli/linkrot.rs"]
mod linkrot;

#[path = "cli/linkfile.rs"]
mod linkfile;

#[path = "cli/linkexport.rs"]
mod linkexport;

#[path = "cli/integrity.rs"]
mod integrity;

#[path = "cli/watch.rs"]
mod watch;

#[path = "cli/hostile.rs"]
mod hostile;

#[path = "cli/hardening_files.rs"]
mod hardening_files;

#[path = "cli/at_rest.rs"]
mod at_rest;

#[path = "cli/waits.rs"]
mod waits;

#[path = "cli/stream.rs"]
mod stream;

#[path = "cli/cache.rs"]
mod cache;
