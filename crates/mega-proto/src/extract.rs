//! Pulling every MEGA link out of arbitrary text: a plain list, an HTML page, a forum post, a
//! "links file".
//!
//! Entities (`&amp;`, `&#33;`) and the percent-escapes of `!` and `#` are undone first. Each
//! candidate is parsed with [`crate::link::parse`]; a link that came without its key picks up a
//! key given apart just after it (`Key: #...` on the next line), when one of the right length
//! stands there. Results are normalised to the canonical URL and de-duplicated in order: the same
//! link seen again only fills in a key that was missing the first time.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::link::{parse, Link, ParsedLink};

fn candidates() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?ix)
            (?: \b(?:https?://)?(?:www\.)?mega(?:\.co)?\.(?:nz|app|io) (?:/|\#)
              | \bmega:(?://)?(?:[\#!]|F!|file/|folder/)
            )
            [^\s"'<>()\[\]{}|\\^`]+"#,
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

fn key_tokens() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[#!]?[A-Za-z0-9_-]+").unwrap_or_else(|e| unreachable!("static regex: {e}")))
}

/// How far after a keyless link to look for its key.
const KEY_WINDOW: usize = 400;

/// Every MEGA link in `text`, parsed, normalised and de-duplicated in order of first appearance.
pub fn extract_links(text: &str) -> Vec<ParsedLink> {
    let text = html_escape::decode_html_entities(text);
    // JSON-escaped slashes (`https:\/\/mega.nz\/file\/...`).
    let text = text.replace("\\/", "/");
    let text = unescape_percent(&text);
    let found: Vec<(usize, usize)> = candidates()
        .find_iter(&text)
        .filter(|m| !glued_to_other_host(&text, m.start()))
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut out = Links::default();
    for (i, &(start, end)) in found.iter().enumerate() {
        let Some(mut link) = parse_candidate(&text, start, end) else { continue };
        if let ParsedLink::Plain(l) = &link {
            if l.key.is_none() {
                let mut window_end = found.get(i + 1).map_or(text.len(), |n| n.0).min(end + KEY_WINDOW);
                while !text.is_char_boundary(window_end) {
                    window_end -= 1;
                }
                let window = text.get(end..window_end).unwrap_or("");
                if let Some(with_key) = key_apart(l, window) {
                    link = ParsedLink::Plain(with_key);
                }
            }
        }
        out.merge(link);
    }
    out.links
}

/// A match that is really part of another host name (`fake-mega.nz`, `cdn.mega.nz`).
fn glued_to_other_host(text: &str, start: usize) -> bool {
    text[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_')
}

/// Parses one candidate. A key broken across a line break is joined; a key that stays
/// truncated leaves the link without its key (to be asked for), rather than losing the link.
fn parse_candidate(text: &str, start: usize, end: usize) -> Option<ParsedLink> {
    let candidate = &text[start..end];
    match parse(candidate) {
        Ok(l) => Some(l),
        Err(crate::Error::Malformed { what: "link key", .. }) => {
            let next = text[end..].strip_prefix("\r\n").or_else(|| text[end..].strip_prefix('\n'));
            if let Some(next) = next {
                let run = next.bytes().take_while(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_').count();
                if let Ok(l) = parse(&format!("{candidate}{}", &next[..run])) {
                    return Some(l);
                }
            }
            let cut = candidate.rfind(['#', '!']).map_or(candidate, |i| &candidate[..i]);
            parse(cut).ok()
        }
        Err(_) => None,
    }
}

/// The links found so far, with an index by target for de-duplication.
#[derive(Default)]
struct Links {
    links: Vec<ParsedLink>,
    index: HashMap<Target, usize>,
}

#[derive(PartialEq, Eq, Hash)]
enum Target {
    Plain(crate::link::LinkKind, crate::NodeHandle, Option<crate::SubNode>),
    Protected(String),
}

impl Links {
    /// Adds a link, or fills in the key of the same link seen before without one.
    fn merge(&mut self, link: ParsedLink) {
        let target = match &link {
            ParsedLink::Plain(l) => Target::Plain(l.kind, l.handle, l.sub),
            ParsedLink::Protected(p) => Target::Protected(p.clone()),
        };
        match self.index.get(&target) {
            Some(&i) => {
                if let (ParsedLink::Plain(e), ParsedLink::Plain(n)) = (&mut self.links[i], &link) {
                    if e.key.is_none() && n.key.is_some() {
                        e.key = n.key.clone();
                    }
                }
            }
            None => {
                self.index.insert(target, self.links.len());
                self.links.push(link);
            }
        }
    }
}

/// The canonical URLs of [`extract_links`], one per link.
pub fn extract_urls(text: &str) -> Vec<String> {
    extract_links(text).iter().map(ParsedLink::to_url).collect()
}

/// The first token in `window` that can be this link's key given apart.
fn key_apart(link: &Link, window: &str) -> Option<Link> {
    let want = crate::b64::encoded_len(link.kind.key_len());
    key_tokens().find_iter(window).find_map(|m| {
        // A token inside another URL or query (`/B7xK...`, `=B7xK...`) is not a key.
        if window[..m.start()].ends_with(['/', '=', '?', '&', '.', ':']) {
            return None;
        }
        let tok = m.as_str();
        let marked = tok.starts_with(['#', '!']);
        let body = tok.trim_start_matches(['#', '!']);
        if body.len() != want || !(marked || looks_random(body)) {
            return None;
        }
        link.with_key(body).ok()
    })
}

/// A bare token is taken for a key only if it does not look like a word: random b64 of this
/// length nearly always mixes cases and has a digit, `-` or `_`.
fn looks_random(s: &str) -> bool {
    let upper = s.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = s.bytes().filter(u8::is_ascii_lowercase).count();
    let other = s.len() - upper - lower;
    upper >= 2 && lower >= 2 && (other > 0 || (upper >= 4 && lower >= 4))
}

/// Undoes `%21` (`!`), `%23` (`#`) and `%2F` (`/`), which mangled links carry.
fn unescape_percent(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i + 1..i + 3).map(|h| h.to_ascii_lowercase());
        match esc.as_deref() {
            Some("21") => out.push('!'),
            Some("23") => out.push('#'),
            Some("2f") => out.push('/'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FK: &str = "tQxSWRY8fj0cwE96Idx25mL8Gr8Fe65LhzJkgo3HM40";
    const DK: &str = "7IsrN3zK-0a6KT-hAsPC8g";

    #[test]
    fn forum_post() {
        let text = format!(
            "Part 1: https://mega.nz/file/ruUBU5aJ#{FK}\n\
             <a href=\"https://mega.nz/#F!Y5WccVVf!{DK}\">mirror</a> and again \
             https://mega.co.nz/#!ruUBU5aJ!{FK}.\n\
             Folder: https://mega.nz/folder/ApWITaGw\nKey: {DK}\n\
             protected: https://mega.nz/#P!AgAAAA ; junk https://example.com/file/abc"
        );
        let urls = extract_urls(&text);
        assert_eq!(
            urls,
            vec![
                format!("https://mega.nz/file/ruUBU5aJ#{FK}"),
                format!("https://mega.nz/folder/Y5WccVVf#{DK}"),
                format!("https://mega.nz/folder/ApWITaGw#{DK}"),
                "https://mega.nz/#P!AgAAAA".to_string(),
            ]
        );
    }

    #[test]
    fn html_entities_and_escapes() {
        let text = format!("href=\"https://mega.nz/&#35;!ruUBU5aJ&#33;{FK}\" https://mega.nz/%23F%21Y5WccVVf%21{DK}");
        assert_eq!(extract_urls(&text).len(), 2);
    }

    #[test]
    fn review_cases() {
        // Junk before a legacy marker, JSON escapes, a `Mega:` label, a key broken across lines.
        let text = format!(
            "https://mega.nz/?fbclid=IwAR0#!ruUBU5aJ!{FK}\n\
             {{\"u\":\"https:\\/\\/mega.nz\\/folder\\/Y5WccVVf#{DK}\"}}\n\
             Mega:https://mega.nz/file/AAAAAAAA#{FK}\n\
             https://mega.nz/file/BBBBBBBB#{}\n{}\n",
            &FK[..20],
            &FK[20..]
        );
        assert_eq!(
            extract_urls(&text),
            vec![
                format!("https://mega.nz/file/ruUBU5aJ#{FK}"),
                format!("https://mega.nz/folder/Y5WccVVf#{DK}"),
                format!("https://mega.nz/file/AAAAAAAA#{FK}"),
                format!("https://mega.nz/file/BBBBBBBB#{FK}"),
            ]
        );
        // Other hosts, and tokens of other URLs are not keys.
        let text = "fake-mega.nz/file/ruUBU5aJ https://mega.nz/folder/Y5WccVVf see https://example.com/a/B7xK2mQp9LrT4vWz8YcN3d";
        assert_eq!(extract_urls(text), vec!["https://mega.nz/folder/Y5WccVVf".to_string()]);
        // The key window never splits a character.
        for pad in 0..6 {
            let text = format!("https://mega.nz/folder/Y5WccVVf {}\nКлюч: #{DK}", "я".repeat(190 + pad));
            let _ = extract_urls(&text);
        }
    }

    #[test]
    fn many_links() {
        let mut text = String::new();
        for i in 0..60_000u32 {
            let h = crate::b64::encode(&[(i >> 16) as u8, (i >> 8) as u8, i as u8, 1, 2, 3]);
            text.push_str(&format!("https://mega.nz/file/{h}#{FK}\n"));
        }
        // 60,000 distinct links (de-duplication is indexed, not a scan per link).
        assert_eq!(extract_links(&text).len(), 60_000);
    }

    #[test]
    fn key_upgrade_and_words_are_not_keys() {
        let text =
            format!("https://mega.nz/folder/Y5WccVVf Supercalifragilisticex\nhttps://mega.nz/folder/Y5WccVVf#{DK}");
        assert_eq!(extract_urls(&text), vec![format!("https://mega.nz/folder/Y5WccVVf#{DK}")]);
    }
}
