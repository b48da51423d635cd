//! One module per group of commands; each command takes the [`crate::remote::App`] and its
//! arguments, makes its library calls and prints its result.

pub(crate) mod account;
pub(crate) mod change;
pub(crate) mod check;
pub(crate) mod dedupe;
pub(crate) mod ledger;
pub(crate) mod links;
pub(crate) mod listing;
pub(crate) mod stream;
pub(crate) mod transfer;
pub(crate) mod watch;
