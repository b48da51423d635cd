//! Many `#P!` links at once (issue 21, 10): opened together they give what opening them one by
//! one gives, and take a fraction of the time (each distinct link derived once, on all cores).
//! The count of derivations is checked in `links.rs`'s unit test; here the results, and the
//! time, which is printed, never asserted. `TUATARA_PBKDF2_LINKS` sets how many links (24).

#![allow(clippy::print_stderr)]

use std::time::Instant;

use mega_api::{decrypt_protected_links, resolve_link, resolve_links, ErrorKind, Link, LinkKind};
use mega_proto::{protected, FileKey, Key128, NodeHandle, NodeKey};

fn protected_links(n: usize) -> Vec<String> {
    // One link in five repeats an earlier one.
    let distinct = n - n / 5;
    let mut urls: Vec<String> = (0..distinct)
        .map(|i| {
            let b = i as u8;
            let key = if i % 2 == 0 {
                NodeKey::File(FileKey::from_node_key(&[b.wrapping_add(1); 32]).unwrap())
            } else {
                NodeKey::Folder(Key128::new([b.wrapping_add(1); 16]))
            };
            let kind = if i % 2 == 0 { LinkKind::File } else { LinkKind::Folder };
            let link = Link { kind, handle: NodeHandle([b, 1, 2, 3, 4, (i >> 8) as u8]), key: Some(key), sub: None };
            protected::encrypt(&link, "hunter2", &mut rand_core::OsRng).unwrap()
        })
        .collect();
    for i in 0..n - distinct {
        urls.push(urls[i * 3 % distinct].clone());
    }
    urls
}

#[tokio::test]
async fn many_protected_links_open_together_as_one_by_one_and_faster() {
    let n = std::env::var("TUATARA_PBKDF2_LINKS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let urls = protected_links(n);
    let refs: Vec<&str> = urls.iter().map(String::as_str).collect();

    let started = Instant::now();
    let mut serial = Vec::new();
    for u in &refs {
        serial.push(resolve_link(u, Some("hunter2")).await.unwrap());
    }
    let one_by_one = started.elapsed();

    let started = Instant::now();
    let together = resolve_links(&refs, Some("hunter2")).await;
    let batch = started.elapsed();

    assert_eq!(together.len(), serial.len());
    for (t, s) in together.iter().zip(&serial) {
        assert_eq!(t.as_ref().unwrap().to_url(), s.to_url());
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    eprintln!(
        "{n} #P! links ({} distinct): one by one {one_by_one:.2?}, together {batch:.2?} on {cores} cores ({:.1}x)",
        n - n / 5,
        one_by_one.as_secs_f64() / batch.as_secs_f64()
    );

    // A wrong password, a plain link among them, and no password at all.
    let plain = serial[0].to_url();
    let mixed = resolve_links(&[refs[0], plain.as_str(), refs[1]], Some("wrong")).await;
    assert_eq!(mixed[0].as_ref().unwrap_err().kind(), ErrorKind::Crypto);
    assert_eq!(mixed[1].as_ref().unwrap().to_url(), plain);
    assert_eq!(mixed[2].as_ref().unwrap_err().kind(), ErrorKind::Crypto);
    let none = resolve_links(&[refs[0], plain.as_str()], None).await;
    assert_eq!(none[0].as_ref().unwrap_err().kind(), ErrorKind::BadInput);
    assert!(none[1].is_ok());
    // Several passwords: each link opens with the one that fits.
    let payload = refs[2].rsplit("#P!").next().unwrap();
    let opened = decrypt_protected_links(&[payload], &["no", "hunter2"]);
    assert_eq!(opened[0].as_ref().unwrap().to_url(), serial[2].to_url());
}
