//! Links made ready to open: `#P!` links decrypted (all of a text's together, on every core,
//! through `mega-api`), a keyless link given its key.

use mega_api::{ErrorKind, Link};
use mega_proto::link::ParsedLink;

/// Why a link cannot be opened as it is. Messages never carry a key or a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    /// A `#P!` link and no password.
    #[error("the link is protected by a password")]
    NeedsPassword,
    /// A `#P!` link the password does not open.
    #[error("wrong password for this #P! link")]
    WrongPassword,
    /// A link without its key, and no key given.
    #[error("the link has no key")]
    NeedsKey,
    /// The key given apart does not fit the link.
    #[error("the key given does not fit the link")]
    KeyDoesNotFit,
    /// Not a MEGA link, or a damaged one.
    #[error("bad link: {0}")]
    Malformed(String),
}

/// Opens parsed links: plain ones as they are, every `#P!` one with `password` (each distinct
/// one once, together, on all cores), and gives `key` (with or without its leading `#`/`!`)
/// to those that came without one. One result per link, in order.
pub async fn resolve_parsed(
    parsed: &[ParsedLink],
    password: Option<&str>,
    key: Option<&str>,
) -> Vec<Result<Link, Unresolved>> {
    let opened = mega_api::open_parsed_links(parsed.to_vec(), password).await;
    parsed
        .iter()
        .zip(opened)
        .map(|(p, r)| match r {
            Ok(link) => with_key(link, key),
            Err(_) if password.is_none() && matches!(p, ParsedLink::Protected(_)) => Err(Unresolved::NeedsPassword),
            Err(e) if e.kind() == ErrorKind::Crypto => Err(Unresolved::WrongPassword),
            Err(e) => Err(Unresolved::Malformed(e.to_string())),
        })
        .collect()
}

/// One link as the user gave it (any form MEGA uses), opened as [`resolve_parsed`] does.
pub async fn resolve(text: &str, password: Option<&str>, key: Option<&str>) -> Result<Link, Unresolved> {
    let parsed = mega_proto::link::parse(text.trim()).map_err(|e| Unresolved::Malformed(e.to_string()))?;
    let mut one = resolve_parsed(std::slice::from_ref(&parsed), password, key).await;
    one.pop().unwrap_or_else(|| Err(Unresolved::Malformed("no link".into())))
}

/// The link with `key` where it has none; [`Unresolved::NeedsKey`] if it still has none.
fn with_key(link: Link, key: Option<&str>) -> Result<Link, Unresolved> {
    let key = key.map(|k| k.trim().trim_start_matches(['#', '!'])).filter(|k| !k.is_empty());
    let link = match (&link.key, key) {
        (None, Some(k)) => link.with_key(k).map_err(|_| Unresolved::KeyDoesNotFit)?,
        _ => link,
    };
    if link.key.is_none() {
        return Err(Unresolved::NeedsKey);
    }
    Ok(link)
}
