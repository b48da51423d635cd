//! Issue 21: where a download keeps its bytes until they are verified, and what it does with
//! what it finds at the final name. A remote `x.part` beside `x`, a user's own `NAME.part` or a
//! symbolic link in the destination, a name of 255 bytes, a folder of the file's name and a
//! file that appears while the download runs: every file arrives whole, nothing of the user's
//! is touched, and no temporary file is left behind.

use std::path::Path;
use std::time::Duration;

use mega_testserver::Config;
use mega_transfer::journal::{JobRecord, JobSpec, Journal, Source};
use mega_transfer::{Conflict, Engine, Outcome};

use super::{content, crash_mid_download, done, temp_files, Ctx, EMAIL};
use crate::support::Engines;

/// Downloads `h` into `dest` and waits for every job: their outcomes.
async fn download(engine: &Engine, h: mega_api::NodeHandle, dest: &Path, conflict: Conflict) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for id in engine.download_node(h, dest, conflict).await.unwrap() {
        outcomes.push(engine.wait(&id).await.unwrap());
    }
    outcomes
}

/// A server with one file at `path`, `len` bytes from `seed` with `mtime`, and the
/// destination folder made.
async fn one_file(path: &str, len: usize, seed: u8, mtime: i64) -> (Ctx, mega_api::NodeHandle, Vec<u8>) {
    let ctx = Ctx::new(Config::default()).await;
    let data = content(len, seed);
    ctx.server.seed_bytes(EMAIL, path, &data, mtime).unwrap();
    let h = ctx.node(path).await;
    std::fs::create_dir_all(ctx.dest()).unwrap();
    (ctx, h, data)
}

/// [`one_file`] of 3 MiB, throttled so that its download takes about a second and a half,
/// and an engine.
async fn slow_download(path: &str, seed: u8) -> (Ctx, Engine, mega_api::NodeHandle, Vec<u8>) {
    let (ctx, h, data) = one_file(path, 3 * 1024 * 1024, seed, 1).await;
    ctx.server.set_throttle(Some(2 << 20), None);
    let engine = ctx.engine(|c| c.connections_per_file = 2);
    (ctx, engine, h, data)
}

/// A file of the account moved into the folder `to` (so that a folder can hold two nodes of
/// one name, as MEGA allows).
async fn move_into(ctx: &Ctx, from: &str, to: &str) {
    ctx.refresh().await;
    let (h, folder) = {
        let tree = ctx.tree.lock().await;
        (tree.resolve(from).unwrap(), tree.resolve(to).unwrap())
    };
    ctx.session.move_node(&mut *ctx.tree.lock().await, h, folder).await.unwrap();
}

/// The temporary name of one download was the final name of another: `x` (slow) wrote into
/// `x.part`, which the download of the remote `x.part` replaced; one file was lost and the other
/// held the wrong bytes, with every job "done".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_x_beside_x_part_downloads_both() {
    let ctx = Ctx::new(Config::default()).await;
    let (x, x_part) = (content(6 * 1024 * 1024, 21), content(1024, 22));
    ctx.server.seed_bytes(EMAIL, "/pair/x", &x, 1).unwrap();
    ctx.server.seed_bytes(EMAIL, "/pair/x.part", &x_part, 1).unwrap();
    let folder = ctx.node("/pair").await;
    // `x` takes a few seconds; `x.part` is done long before.
    ctx.server.set_throttle(None, Some(2 << 20));
    let engine = ctx.engine(|c| c.connections_per_file = 2);
    for (dest, conflict) in [(ctx.dest().join("get"), Conflict::Rename), (ctx.dest().join("copy"), Conflict::Overwrite)]
    {
        for o in download(&engine, folder, &dest, conflict).await {
            done(Some(o));
        }
        assert!(std::fs::read(dest.join("pair/x")).unwrap() == x, "{conflict:?}: x holds its own bytes");
        assert!(std::fs::read(dest.join("pair/x.part")).unwrap() == x_part, "{conflict:?}");
        assert_eq!(std::fs::read_dir(dest.join("pair")).unwrap().count(), 2, "{conflict:?}: nothing else");
    }
    ctx.server.stop().await;
}

/// A user's own `NAME.part` in the destination was opened, overwritten and renamed to `NAME`;
/// a symbolic link there was followed, so a file outside the destination was overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_own_name_part_file_is_never_touched() {
    let ctx = Ctx::new(Config::default()).await;
    let (x, y) = (content(2 * 1024 * 1024 + 9, 23), content(70_000, 24));
    ctx.server.seed_bytes(EMAIL, "/in/x.bin", &x, 1).unwrap();
    ctx.server.seed_bytes(EMAIL, "/in/y.bin", &y, 1).unwrap();
    let folder = ctx.node("/in").await;
    let dest = ctx.dest();
    std::fs::create_dir_all(dest.join("in")).unwrap();
    std::fs::write(dest.join("in/x.bin.part"), b"my own notes").unwrap();
    let victim = ctx.tmp.path().join("outside.txt");
    std::fs::write(&victim, b"not to be overwritten").unwrap();
    std::os::unix::fs::symlink(&victim, dest.join("in/y.bin.part")).unwrap();
    let engine = ctx.engine(|_| {});
    for o in download(&engine, folder, &dest, Conflict::Overwrite).await {
        done(Some(o));
    }
    assert!(std::fs::read(dest.join("in/x.bin")).unwrap() == x);
    assert!(std::fs::read(dest.join("in/y.bin")).unwrap() == y);
    assert!(std::fs::read(dest.join("in/x.bin.part")).unwrap() == b"my own notes");
    assert!(std::fs::read(&victim).unwrap() == b"not to be overwritten");
    assert_eq!(std::fs::read_link(dest.join("in/y.bin.part")).unwrap(), victim, "the link is left as it was");
    assert_eq!(temp_files(&dest), Vec::<String>::new());
    ctx.server.stop().await;
}

/// After a crash, the temporary file of the unfinished job was replaced (by someone who can
/// write to the folder) with a symbolic link, then with a hard link to another file: the resumed
/// job refuses both, saying so, writes nothing through them, and finishes once they are gone.
#[test]
fn a_symlink_at_the_temp_path_is_not_followed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = rt.block_on(Ctx::new(Config::default()));
    let (id, data) = crash_mid_download(&rt, &ctx, 25);
    let mut left: Vec<_> = std::fs::read_dir(ctx.dest()).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(left.len(), 1, "one temporary file: {left:?}");
    let temp = left.remove(0);

    let victim = ctx.tmp.path().join("victim.txt");
    std::fs::write(&victim, b"someone else's file").unwrap();
    std::fs::remove_file(&temp).unwrap();
    std::os::unix::fs::symlink(&victim, &temp).unwrap();
    let engine = ctx.engine(|_| {});
    let (resumed, errors) = rt.block_on(async { engine.resume_journal() });
    assert!(errors.is_empty() && resumed == [id.clone()], "{errors:?}");
    let refused = |says: &str| match rt.block_on(engine.wait(&id)) {
        Some(Outcome::Failed { message, .. }) => {
            assert!(message.contains(says) && message.contains("big.bin"), "{message}");
        }
        other => panic!("{other:?}"),
    };
    refused("a symbolic link");
    assert!(std::fs::read(&victim).unwrap() == b"someone else's file");
    assert!(!ctx.dest().join("big.bin").exists());

    std::fs::remove_file(&temp).unwrap();
    std::fs::hard_link(&victim, &temp).unwrap();
    assert!(rt.block_on(async { engine.retry(&id) }));
    refused("did not make");
    assert!(std::fs::read(&victim).unwrap() == b"someone else's file");

    std::fs::remove_file(&temp).unwrap();
    assert!(rt.block_on(async { engine.retry(&id) }));
    done(rt.block_on(engine.wait(&id)));
    assert!(std::fs::read(ctx.dest().join("big.bin")).unwrap() == data);
    assert!(std::fs::read(&victim).unwrap() == b"someone else's file");
    assert_eq!(temp_files(&ctx.dest()), Vec::<String>::new());
    rt.block_on(ctx.server.stop());
}

/// A safe name is cut to 255 bytes; `NAME.part` was then too long for the file system and the
/// file could never be downloaded. A second file of the same long name gets a numbered name
/// that fits too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_255_byte_name_downloads() {
    let ctx = Ctx::new(Config::default()).await;
    let name = format!("a{}.txt", "é".repeat(125));
    assert_eq!(name.len(), 255);
    let data = content(1_500_000, 26);
    ctx.server.seed_bytes(EMAIL, &format!("/long/{name}"), &data, 1).unwrap();
    let folder = ctx.node("/long").await;
    let dest = ctx.dest();
    std::fs::create_dir_all(dest.join("long")).unwrap();
    let engine = ctx.engine(|_| {});
    for o in download(&engine, folder, &dest, Conflict::Rename).await {
        done(Some(o));
    }
    assert!(std::fs::read(dest.join("long").join(&name)).unwrap() == data);
    // The local file changed: the next download takes a numbered name, cut to fit.
    std::fs::write(dest.join("long").join(&name), b"changed").unwrap();
    let outcomes = download(&engine, folder, &dest, Conflict::Rename).await;
    let Some(Outcome::Done { path: Some(second), .. }) = outcomes.first() else { panic!("{outcomes:?}") };
    let second_name = second.file_name().unwrap().to_str().unwrap();
    assert!(second_name.len() <= 255 && second_name.ends_with(" (1).txt"), "{second_name}");
    assert!(std::fs::read(second).unwrap() == data);
    assert_eq!(temp_files(&dest), Vec::<String>::new());
    ctx.server.stop().await;
}

/// A file and a folder of the same name in one folder: the file's rename failed with "Is a
/// directory" and its verified copy stayed behind as `.part`. Now the folder keeps its name and
/// the file takes the next free one (the conflict policy's rename), said in its outcome, in
/// either order and with either policy; the same download again finds it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_with_the_files_name_is_reported_and_no_temp_left() {
    let ctx = Ctx::new(Config::default()).await;
    let data = content(1_200_000, 27);
    // In `folder-first`, the folder `a` was made first; in `file-first`, the file.
    ctx.server.seed_bytes(EMAIL, "/folder-first/a/inner.txt", b"inner", 1).unwrap();
    ctx.server.seed_bytes(EMAIL, "/stage1/a", &data, 1).unwrap();
    move_into(&ctx, "/stage1/a", "/folder-first").await;
    ctx.server.seed_bytes(EMAIL, "/file-first/a", &data, 1).unwrap();
    ctx.server.seed_bytes(EMAIL, "/stage2/a/inner.txt", b"inner", 1).unwrap();
    move_into(&ctx, "/stage2/a", "/file-first").await;
    let engine = ctx.engine(|_| {});
    for top in ["folder-first", "file-first"] {
        let folder = ctx.node(&format!("/{top}")).await;
        for conflict in [Conflict::Rename, Conflict::Overwrite] {
            let dest = ctx.dest().join(format!("{conflict:?}"));
            let here = dest.join(top);
            let mut placed = Vec::new();
            for o in download(&engine, folder, &dest, conflict).await {
                match o {
                    Outcome::Done { path: Some(p), .. } => placed.push(p),
                    o => panic!("{top} {conflict:?}: {o:?}"),
                }
            }
            placed.sort();
            let mut expected = [here.join("a (1)"), here.join("a/inner.txt")];
            expected.sort();
            assert_eq!(placed, expected, "{top} {conflict:?}");
            assert!(std::fs::read(here.join("a (1)")).unwrap() == data, "{top} {conflict:?}");
            assert!(std::fs::read(here.join("a/inner.txt")).unwrap() == b"inner");
            assert_eq!(temp_files(&dest), Vec::<String>::new(), "{top} {conflict:?}");
            // Again: the file at its numbered name is found identical, no third copy is made.
            let again = download(&engine, folder, &dest, conflict).await;
            assert!(again.iter().all(|o| *o == Outcome::Skipped), "{top} {conflict:?}: {again:?}");
            assert!(!here.join("a (2)").exists());
        }
    }
    ctx.server.stop().await;
}

/// A file that appears at the final name while the download runs is the user's: with `Rename`
/// it is kept and the download takes the next free name; with `Overwrite` (consent) it is
/// replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_appears_meanwhile_is_not_replaced() {
    let (ctx, engine, h, data) = slow_download("/late.bin", 28).await;
    for conflict in [Conflict::Rename, Conflict::Overwrite] {
        let dest = ctx.dest().join(format!("{conflict:?}"));
        let id = engine.download_node(h, &dest, conflict).await.unwrap().remove(0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(dest.join("late.bin"), b"written meanwhile").unwrap();
        let Some(Outcome::Done { path: Some(placed), .. }) = engine.wait(&id).await else { panic!() };
        let (mine, theirs) = match conflict {
            Conflict::Rename => (Some(&b"written meanwhile"[..]), dest.join("late (1).bin")),
            Conflict::Overwrite => (None, dest.join("late.bin")),
        };
        assert_eq!(placed, theirs);
        assert!(std::fs::read(&theirs).unwrap() == data);
        if let Some(mine) = mine {
            assert!(std::fs::read(dest.join("late.bin")).unwrap() == mine);
        }
        assert_eq!(temp_files(&dest), Vec::<String>::new());
    }
    ctx.server.stop().await;
}

/// Someone who can write to the folder swaps the temporary file for one of their own while
/// the download runs: what they put there is never renamed to the final name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temp_file_swapped_while_downloading_is_never_put_in_place() {
    let (ctx, engine, h, _) = slow_download("/swap.bin", 29).await;
    let id = engine.download_node(h, &ctx.dest(), Conflict::Rename).await.unwrap().remove(0);
    let temp = mega_transfer::part_path(&ctx.dest().join("swap.bin"), &id);
    for _ in 0..200 {
        if temp.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    std::fs::remove_file(&temp).unwrap();
    std::fs::write(&temp, b"planted").unwrap();
    match engine.wait(&id).await {
        Some(Outcome::Failed { message, .. }) => assert!(message.contains("was replaced"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!ctx.dest().join("swap.bin").exists(), "nothing at the final name");
    assert!(std::fs::read(&temp).unwrap() == b"planted", "and the planted file left alone");
    ctx.server.stop().await;
}

/// A download of `h` to `path` in the journal as a crash leaves it: its record and two
/// journaled chunks, no temporary file.
async fn journaled(ctx: &Ctx, h: mega_api::NodeHandle, path: &Path, mtime: Option<i64>) -> JobRecord {
    let key = ctx.tree.lock().await.get(h).unwrap().file_key().unwrap();
    let size = ctx.tree.lock().await.get(h).unwrap().size();
    let rec = JobRecord {
        id: format!("1700000000000-{}", path.file_stem().unwrap().to_string_lossy()),
        spec: JobSpec::Download {
            source: Source::Own { node: h.to_b64() },
            key: mega_proto::b64::encode(&key.to_node_key()),
            size,
            path: path.to_path_buf(),
            mtime,
            overwrite: false,
        },
        priority: 0,
        paused: false,
    };
    let journal = Journal::open(&ctx.tmp.path().join("journal")).unwrap();
    journal.save(&rec).unwrap();
    journal.append_chunks(&rec.id, &[(0, [1; 16]), (1, [2; 16])]).unwrap();
    rec
}

/// A journal entry of an earlier version (no conflict policy in it) kept its bytes in
/// `NAME.part`: resumed, the job starts over in its own temporary file, ends verified, and
/// leaves `NAME.part` (which may as well be anyone's) alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_journal_entry_starts_over_and_leaves_name_part_alone() {
    let (ctx, h, data) = one_file("/old.bin", 2 * 1024 * 1024 + 5, 30, 1).await;
    let dest = ctx.dest();
    let name_part = vec![7u8; data.len()];
    std::fs::write(dest.join("old.bin.part"), &name_part).unwrap();
    let rec = journaled(&ctx, h, &dest.join("old.bin"), None).await;
    // As an earlier version wrote it: no `overwrite`.
    let file = ctx.tmp.path().join(format!("journal/{}.json", rec.id));
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    json["spec"].as_object_mut().unwrap().remove("overwrite").unwrap();
    std::fs::write(&file, json.to_string()).unwrap();

    let engine = ctx.engine(|_| {});
    let (ids, errors) = engine.resume_journal();
    assert!(errors.is_empty() && ids == [rec.id.clone()], "{errors:?}");
    done(engine.wait(&rec.id).await);
    assert!(std::fs::read(dest.join("old.bin")).unwrap() == data);
    assert!(std::fs::read(dest.join("old.bin.part")).unwrap() == name_part);
    assert_eq!(temp_files(&dest), Vec::<String>::new());
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 2, "the file and the old NAME.part");
    ctx.server.stop().await;
}

/// A crashed job whose temporary file is gone counted any file of its size at the final name
/// as its own, renamed just before the crash: the user's file was reported as the download,
/// and the download was never made. Now the file must carry the download's mtime too; the
/// user's file stays and the download takes the next name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_size_file_at_the_final_name_is_not_taken_for_the_download() {
    let (ctx, h, data) = one_file("/same.bin", 1_500_000, 31, 1_700_000_000).await;
    let dest = ctx.dest();
    let users = vec![9u8; data.len()];
    std::fs::write(dest.join("same.bin"), &users).unwrap();
    let rec = journaled(&ctx, h, &dest.join("same.bin"), Some(1_700_000_000)).await;
    let engine = ctx.engine(|_| {});
    engine.resume_journal();
    let Some(Outcome::Done { path: Some(placed), .. }) = engine.wait(&rec.id).await else { panic!() };
    assert_eq!(placed, dest.join("same (1).bin"));
    assert!(std::fs::read(&placed).unwrap() == data);
    assert!(std::fs::read(dest.join("same.bin")).unwrap() == users);
    ctx.server.stop().await;
}
