//! Issue 21, local files: `get` and `copy` of a folder holding `x` and `x.part` bring both (the
//! temporary name of one download was the final name of the other: exit 0, "2 transferred",
//! one file lost), a user's own `NAME.part` in the destination is left alone, a name of 255
//! bytes downloads, and a file beside a folder of its name takes the next free name.

use crate::support::{content, files_below, logged_in, EMAIL, PASSWORD};

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The files below `got` are those below `want`, byte for byte (told apart by name and size,
/// not printed whole).
#[track_caller]
fn same_files(got: &std::path::Path, want: &std::path::Path) {
    let (got, want) = (files_below(got), files_below(want));
    let sizes = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, b)| (n.clone(), b.len())).collect::<Vec<_>>();
    assert_eq!(sizes(&got), sizes(&want));
    assert!(got == want, "same names and sizes, other bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_x_beside_x_part_downloads_both() {
    let (server, cli) = logged_in().await;
    let tmp = tempfile::tempdir().unwrap();
    let up = tmp.path().join("pair");
    std::fs::create_dir_all(&up).unwrap();
    std::fs::write(up.join("x"), content(6 * 1024 * 1024, 1)).unwrap();
    std::fs::write(up.join("x.part"), content(1024, 2)).unwrap();
    cli.run(&["put", &s(&up), "/"]).await.ok();
    // As in the report: the big file still running when the small one is done.
    server.set_throttle(Some(12_000_000), None);

    let got = tmp.path().join("got");
    let run = cli.run(&["get", "/pair", &s(&got)]).await;
    assert!(run.ok().stderr.contains("2 transferred"), "{}", run.stderr);
    same_files(&got.join("pair"), &up);

    let copied = tmp.path().join("copied");
    cli.run(&["copy", "remote:/pair", &s(&copied)]).await.ok();
    same_files(&copied, &up);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_own_name_part_file_is_never_touched() {
    let (server, cli) = logged_in().await;
    let long = format!("a{}.txt", "é".repeat(125));
    server.seed_bytes(EMAIL, "/in/notes.txt", &content(3 * 1024 * 1024, 3), 1).unwrap();
    server.seed_bytes(EMAIL, "/in/b.bin", &content(70_000, 4), 1).unwrap();
    server.seed_bytes(EMAIL, &format!("/in/{long}"), b"long", 1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let down = tmp.path().join("down");
    std::fs::create_dir_all(&down).unwrap();
    std::fs::write(down.join("notes.txt.part"), b"mine").unwrap();
    let victim = tmp.path().join("outside");
    std::fs::write(&victim, b"outside").unwrap();
    std::os::unix::fs::symlink(&victim, down.join("b.bin.part")).unwrap();

    cli.run(&["get", "/in/notes.txt", "/in/b.bin", &format!("/in/{long}"), &s(&down)]).await.ok();
    assert!(std::fs::read(down.join("notes.txt")).unwrap() == content(3 * 1024 * 1024, 3));
    assert_eq!(std::fs::read(down.join(&long)).unwrap(), b"long", "a 255-byte name downloads");
    assert_eq!(std::fs::read(down.join("notes.txt.part")).unwrap(), b"mine");
    assert!(std::fs::read(down.join("b.bin")).unwrap() == content(70_000, 4));
    assert_eq!(std::fs::read(&victim).unwrap(), b"outside");
    assert!(down.join("b.bin.part").symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_dir(&down).unwrap().count(), 5, "nothing else left");
    server.stop().await;
}

/// A file and a folder of one name in one folder: the file's rename failed with "Is a
/// directory" and its verified copy was left as `.part`. Now the file takes the next free name
/// and `get` and `copy` say where it went (the `done PATH` lines, `path` with `--json`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_with_the_files_name_is_reported_and_no_temp_left() {
    let (server, cli) = logged_in().await;
    server.seed_bytes(EMAIL, "/clash/a/inner.txt", b"inner", 1).unwrap();
    server.seed_bytes(EMAIL, "/stage/a", &content(1_200_000, 5), 1).unwrap();
    let session = crate::support::client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut tree = session.fetch_tree().await.unwrap();
    let (file, clash) = (tree.resolve("/stage/a").unwrap(), tree.resolve("/clash").unwrap());
    session.move_node(&mut tree, file, clash).await.unwrap();

    let tmp = tempfile::tempdir().unwrap();
    for (how, dest) in [("get", tmp.path().join("got")), ("copy", tmp.path().join("copied"))] {
        let out = match how {
            "get" => cli.run(&["--json", "get", "/clash", &s(&dest)]).await.json(),
            _ => cli.run(&["--json", "copy", "remote:/clash", &s(&dest)]).await.json(),
        };
        let here = if how == "get" { dest.join("clash") } else { dest.clone() };
        let mut paths: Vec<&str> = out.as_array().unwrap().iter().filter_map(|e| e["path"].as_str()).collect();
        paths.sort();
        let want = [here.join("a (1)"), here.join("a/inner.txt")];
        assert_eq!(paths, want.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>(), "{how}: {out}");
        let files = files_below(&here);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a (1)", "a/inner.txt"], "{how}: no temporary file left");
        assert!(files[0].1 == content(1_200_000, 5), "{how}");
    }
    server.stop().await;
}
