//! What other people's node names and keys can do to a terminal and to a folder download
//! (issue 21, items 6 and 7): names that carry terminal escapes, line breaks and
//! bidirectional overrides are escaped wherever the CLI prints them, and never reach a local
//! file name raw; a file nobody can decrypt fails alone, named, while the rest of its folder
//! comes down and nothing is left in the journal.

use test_support::server_with_account;

use crate::support::{client, content, files_below, logged_in, Cli, EMAIL, PASSWORD};

/// A name that sets the window title, turns the terminal red, fakes a second listing line and
/// reverses the extension; a folder with a clear-screen escape.
const EVIL_FILE: &str = "title\x1b]0;pwned\x07red\x1b[31m\nfake.txt   0 B\u{202e}fdp.exe";
const EVIL_FOLDER: &str = "dir\x1b[2J\u{2067}x";

fn assert_inert(what: &str, text: &str) {
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{2067}', '\r'] {
        assert!(!text.contains(bad), "{what} printed {bad:?} raw: {text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_in_node_names_are_printed_escaped() {
    let (server, cli) = logged_in().await;
    server.seed_bytes(EMAIL, "/in/plain.txt", b"plain", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/in/sub/evil.bin", &content(1000, 1), 1_700_000_000).unwrap();
    // The names are set as any other client could set them.
    let session = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut tree = session.fetch_tree().await.unwrap();
    let file = tree.resolve("/in/sub/evil.bin").unwrap();
    let folder = tree.resolve("/in/sub").unwrap();
    session.rename(&mut tree, file, EVIL_FILE).await.unwrap();
    session.rename(&mut tree, folder, EVIL_FOLDER).await.unwrap();

    for args in [
        &["ls", "-R", "/in"][..],
        &["ls", "-l", "-R", "/in"],
        &["lsd", "/in"],
        &["tree", "/in"],
        &["find", "*", "--in", "/in"],
    ] {
        let run = cli.run(args).await;
        run.ok();
        assert_inert(&args.join(" "), &run.stdout);
        assert_inert(&args.join(" "), &run.stderr);
        // One line per entry: the newline in the name does not fake a line.
        let expected = match args[0] {
            "lsd" => 1,
            "tree" => 4,
            _ => 3,
        };
        assert_eq!(run.lines().len(), expected, "`{}`: {:?}", args.join(" "), run.stdout);
        if args[0] != "lsd" {
            assert!(run.stdout.contains("\\x1b]0;pwned\\x07"), "the escape is shown, escaped: {:?}", run.stdout);
            assert!(run.stdout.contains("\\u{202e}fdp.exe"), "{:?}", run.stdout);
        }
        assert!(run.stdout.contains("dir\\x1b[2J\\u{2067}x"), "{:?}", run.stdout);
    }
    // --json carries the names exactly, escaped by JSON itself.
    let json = cli.run(&["--json", "ls", "-R", "/in"]).await.json();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert!(names.contains(&EVIL_FILE) && names.contains(&EVIL_FOLDER), "{names:?}");

    // Downloaded, the names are made safe: no control or bidirectional character on disk, and
    // the report lines are escaped too.
    let down = tempfile::tempdir().unwrap();
    let run = cli.run(&["get", "/in", &down.path().to_string_lossy()]).await;
    run.ok();
    assert_inert("get", &run.stdout);
    assert_inert("get", &run.stderr);
    let files = files_below(&down.path().join("in"));
    assert_eq!(files.len(), 2, "{files:?}");
    for (path, _) in &files {
        assert!(!path.chars().any(|c| c.is_control() || mega_transfer::names::is_bidi_control(c)), "{path:?}");
    }
    assert!(files.iter().any(|(p, b)| p.ends_with("_fdp.exe") && b == &content(1000, 1)), "{files:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_undecryptable_file_fails_alone_and_the_folder_still_downloads() {
    let (server, cli) = logged_in().await;
    for (i, name) in ["a.bin", "b.bin", "sub/c.bin", "z.bin"].iter().enumerate() {
        server.seed_bytes(EMAIL, &format!("/Mixed/{name}"), &content(50_000 + i, i as u8), 1_700_000_000).unwrap();
    }
    // b.bin's key is wrapped for a user this account is not: nobody here can open it.
    let foreign = format!("AAAAAAAAAAA:{}", mega_proto::b64::encode(&[7u8; 32]));
    server.replace_node_key(EMAIL, "/Mixed/b.bin", &foreign).unwrap();

    let down = tempfile::tempdir().unwrap();
    let run = cli.run(&["get", "/Mixed", &down.path().to_string_lossy()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].contains("1 of 4 transfers failed"), "{}", errors[0]);
    assert!(errors[0].contains("/Mixed/") && errors[0].contains("cannot be decrypted"), "{}", errors[0]);
    // Every other file came down whole; nothing was written for the undecryptable one.
    let files: Vec<String> = files_below(&down.path().join("Mixed")).into_iter().map(|(p, _)| p).collect();
    assert_eq!(files, ["a.bin", "sub/c.bin", "z.bin"], "{}", run.stderr);
    assert_eq!(std::fs::read(down.path().join("Mixed/z.bin")).unwrap(), content(50_003, 3));
    // No job was left behind in the journal.
    assert_eq!(cli.run(&["--json", "transfers"]).await.json(), serde_json::json!([]));
    server.stop().await;
}

/// `-v`/`-vv`/`-vvv` bring the libraries' `tracing` events to stderr (issue 15's "logs that
/// arrive"; without a flag, the client's warnings), and a full login, upload, listing and
/// download at every level, with the server
/// failing requests so that retries are logged with their errors, prints neither the
/// password nor a session id nor the master key (raw, b64 or hex).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_of_a_login_and_transfers_hold_no_secret() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url()).without_dbus();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("log-me.bin");
    std::fs::write(&file, content(300_000, 5)).unwrap();
    let file = file.to_string_lossy().into_owned();
    let down = tmp.path().join("down").to_string_lossy().into_owned();

    // No flag (the client's warnings only), then -v, -vv and -vvv. `--api-url` stands in for
    // "no flag": it is global and changes nothing here.
    let default = format!("--api-url={}", server.url());
    let mut logs = String::new();
    for (i, level) in [default.as_str(), "-v", "-vv", "-vvv"].into_iter().enumerate() {
        server.set_faults(mega_testserver::faults::Faults::default());
        let login = cli.run_with_stdin(&[level, "login", EMAIL, "--password-stdin"], &format!("{PASSWORD}\n")).await;
        login.ok();
        logs.push_str(&login.stderr);
        server.set_faults(mega_testserver::faults::Faults { eagain: 0.1, http500: 0.1, ..Default::default() });
        let down = format!("{down}/{i}");
        for args in [
            &[level, "put", &file, "/"][..],
            &[level, "ls", "-l", "/"],
            &[level, "get", "/log-me.bin", &down],
            &[level, "whoami"],
        ] {
            let run = cli.run(args).await;
            run.ok();
            logs.push_str(&run.stderr);
        }
    }
    assert!(logs.contains("mega_api"), "-vvv shows the client's own events: {logs}");
    assert!(logs.contains("retrying request"), "the server's faults were retried and logged: {logs}");

    let (master, sids) = server.account_secrets(EMAIL).unwrap();
    assert!(!sids.is_empty());
    let mut secrets = vec![PASSWORD.to_string(), mega_proto::b64::encode(&master), hex(&master)];
    secrets.extend(sids);
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "a secret reached the log");
    }
    assert!(!logs.as_bytes().windows(16).any(|w| w == master), "the raw master key reached the log");
    server.stop().await;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `diagnostics` (for a bug report) after a login without a keyring, an upload and a links file
/// downloaded: the accounts, settings, ledger and session files are described, and no
/// password, session id, master key or link key is in it; the file is the user's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_describe_the_state_and_hold_no_secret() {
    let server = server_with_account().await;
    let handle = server.seed_bytes(EMAIL, "/shared.bin", &content(5000, 9), 1_700_000_000).unwrap();
    let link = server.file_link(EMAIL, handle).unwrap();
    let key = link.rsplit('#').next().unwrap().to_string();
    let cli = Cli::new(server.url()).without_dbus();
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let links = tmp.path().join("links.txt");
    std::fs::write(&links, format!("{link}\n")).unwrap();
    let down = tmp.path().join("down");
    cli.run(&["links", "get", &links.to_string_lossy(), "--to", &down.to_string_lossy()]).await.ok();
    let up = tmp.path().join("up.bin");
    std::fs::write(&up, content(2000, 1)).unwrap();
    cli.run(&["put", &up.to_string_lossy(), "/"]).await.ok();

    let report = tmp.path().join("diag.txt");
    cli.run(&["diagnostics", "-o", &report.to_string_lossy()]).await.ok();
    assert_eq!(crate::support::mode(&report), 0o600);
    let written = std::fs::read_to_string(&report).unwrap();
    let printed = cli.run(&["diagnostics"]).await.ok().stdout.clone();
    for text in [&written, &printed] {
        for part in [EMAIL, "face: tuatara-cli", "session files (no keyring): 1", "1 links", "0 unfinished"] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let (master, sids) = server.account_secrets(EMAIL).unwrap();
        let mut secrets = vec![PASSWORD.to_string(), mega_proto::b64::encode(&master), hex(&master), key.clone()];
        secrets.extend(sids);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "a secret is in the diagnostics");
        }
    }
    server.stop().await;
}
