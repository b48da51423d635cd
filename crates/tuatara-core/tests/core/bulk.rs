//! Thousands at once: file links checked many to a request (`g` commands sharing requests),
//! each with its own result, in the order given; a removed, taken-down or malformed link fails
//! alone.

use tuatara_core::links::{self, CheckOptions, LinkStatus, Progress};

use crate::login;
use test_support::{server_with_account, EMAIL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_file_links_are_checked_in_a_few_requests_in_order() {
    let server = server_with_account().await;
    // 4 folders of 50 files; the second folder is deleted, one file of the third taken down.
    server.seed_bulk(EMAIL, 4, 50).unwrap();
    let path = |n: usize| format!("/bulk/dir-{:05}/file-{n:07}.bin", n / 50);
    let urls: Vec<String> =
        (0..200).map(|n| server.file_link(EMAIL, server.find(EMAIL, &path(n)).unwrap()).unwrap()).collect();
    let session = login(&server).await;
    let mut tree = session.fetch_tree().await.unwrap();
    let gone = tree.resolve("/bulk/dir-00001").unwrap();
    session.remove(&mut tree, gone).await.unwrap();
    server.take_down(EMAIL, &path(120)).unwrap();
    // One malformed: a key of the right length that does not fit (the server is asked, the
    // attributes do not decrypt), in the middle of the list.
    let other = server.seed_bytes(EMAIL, "/other.bin", b"other", 1_700_000_000).unwrap();
    let other = server.file_link(EMAIL, other).unwrap();
    let mut lines = urls.clone();
    let (handle_part, _) = other.split_once('#').unwrap();
    lines.insert(100, format!("{handle_part}#{}", "B".repeat(43)));
    let text = lines.join("\n");

    let client = test_support::client(server.url());
    let before = server.command_stats("g");
    let mut checked_one_by_one = 0;
    let rows = links::check_text(&client, &text, CheckOptions::default(), &mut |p| {
        if p == Progress::Checked {
            checked_one_by_one += 1;
        }
    })
    .await;
    let after = server.command_stats("g");

    assert_eq!(rows.len(), 201);
    assert_eq!(checked_one_by_one, 201, "progress once per link");
    for (i, row) in rows.iter().enumerate() {
        let n = if i < 100 {
            Some(i)
        } else if i == 100 {
            None
        } else {
            Some(i - 1)
        };
        let Some(n) = n else {
            assert_eq!(row.status, LinkStatus::Bad, "the malformed link: {row:?}");
            assert!(row.message.as_deref().unwrap().contains("key does not fit"), "{row:?}");
            continue;
        };
        assert_eq!(row.url, urls[n], "row {i} in the order given");
        let want = match n {
            50..=99 => LinkStatus::Removed,
            120 => LinkStatus::Blocked,
            _ => LinkStatus::Alive,
        };
        assert_eq!(row.status, want, "row {i} ({n}): {row:?}");
        if want == LinkStatus::Alive {
            assert_eq!(row.name.as_deref(), Some(format!("file-{n:07}.bin").as_str()));
        }
    }
    // 201 `g` commands in requests of up to 64: four requests, not 201.
    let (commands, requests) = (after.commands - before.commands, after.requests - before.requests);
    assert_eq!(commands, 201);
    assert!(requests <= 201_u64.div_ceil(mega_api::FILE_LINKS_PER_REQUEST as u64), "{requests} requests");
    assert_eq!(after.largest, mega_api::FILE_LINKS_PER_REQUEST as u64);
    server.stop().await;
}
