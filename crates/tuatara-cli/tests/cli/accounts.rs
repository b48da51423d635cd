//! Logins against the test server: v1 and v2 accounts, hashcash, two-factor codes, wrong
//! credentials, expired sessions, usage errors; each with its exit code.

use mega_testserver::{TestServer, Version};
use test_support::{server_with_account, totp};

use crate::support::{client, stored_session, Cli, EMAIL, PASSWORD};

const SECRET: &str = "JBSWY3DPEHPK3PXP";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_and_v2_accounts_with_hashcash() {
    let server = TestServer::start().await.unwrap();
    server.add_user("old@example.com", "v1 password", Version::V1).unwrap();
    server.add_user(EMAIL, PASSWORD, Version::V2).unwrap();
    server.set_hashcash(Some(230));
    for (email, password) in [("old@example.com", "v1 password"), (EMAIL, PASSWORD)] {
        let cli = Cli::new(server.url());
        let login = cli.run_with_stdin(&["--json", "login", email, "--password-stdin"], &format!("{password}\n")).await;
        let v = login.json();
        assert_eq!(v["email"], email);
        assert!(["keyring", "file"].contains(&v["storage"].as_str().unwrap()), "{v}");
        assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), email);
        // The e-mail is case-insensitive; a wrong password is exit 5, a stranger too.
        let other = Cli::new(server.url());
        other.login(&email.to_uppercase(), password).await.ok();
        other.login(email, "wrong").await.fails(5, "wrong e-mail or password");
        other.login("nobody@example.com", "x").await.fails(5, "wrong e-mail or password");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_codes() {
    let server = server_with_account().await;
    server.set_mfa(EMAIL, SECRET).unwrap();
    let cli = Cli::new(server.url());
    // No terminal and no code: exit 5 saying how to give one; nothing stored.
    cli.login(EMAIL, PASSWORD).await.fails(5, "--mfa");
    cli.run(&["whoami"]).await.fails(7, "not logged in");
    let wrong =
        cli.run_with_stdin(&["login", EMAIL, "--password-stdin", "--mfa", "000000"], &format!("{PASSWORD}\n")).await;
    // 000000 could be the current code once in a million runs; any other wrong code is fine.
    if wrong.code != 0 {
        wrong.fails(5, "wrong two-factor code");
    }
    cli.run_with_stdin(&["login", EMAIL, "--password-stdin", "--mfa", "12ab"], &format!("{PASSWORD}\n"))
        .await
        .fails(5, "wrong two-factor code");
    let code = totp(SECRET);
    cli.run_with_stdin(&["login", EMAIL, "--password-stdin", "--mfa", &code], &format!("{PASSWORD}\n")).await.ok();
    assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), EMAIL);
    // The code on the line after the password.
    let second = Cli::new(server.url());
    second.run_with_stdin(&["login", EMAIL, "--password-stdin"], &format!("{PASSWORD}\n{}\n", totp(SECRET))).await.ok();
    second.run(&["whoami"]).await.ok();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_and_bad_input() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url()).without_dbus();
    cli.login(EMAIL, PASSWORD).await.ok();
    // The session ends elsewhere (as a logout on another device would).
    let saved = stored_session(&cli);
    client(server.url()).resume(&saved).await.unwrap().logout().await.unwrap();
    cli.run(&["ls"]).await.fails(7, "session expired");
    cli.run(&["whoami"]).await.fails(7, "tuatara-cli login");
    // logout still forgets it here.
    cli.run(&["logout"]).await.ok();
    assert!(cli.session_files().is_empty());
    cli.run(&["whoami"]).await.fails(7, "not logged in");
    // Usage errors are exit 2, from clap and from the CLI.
    assert_eq!(cli.run(&["ls", "--bogus"]).await.code, 2);
    assert_eq!(cli.run(&["frobnicate"]).await.code, 2);
    cli.run(&["login"]).await.fails(2, "give the e-mail");
    cli.run(&["login", EMAIL]).await.fails(2, "--password-stdin");
    // --help documents the exit codes.
    let help = cli.run(&["--help"]).await;
    assert!(help.ok().stdout.contains("Exit codes:") && help.stdout.contains("6  bad link"), "{}", help.stdout);
    // A server that is not there: exit 9.
    let gone = Cli::new("http://127.0.0.1:9/");
    gone.login(EMAIL, PASSWORD).await.fails(9, "network");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_names_and_dedupe() {
    let server = server_with_account().await;
    server.seed_bytes(EMAIL, "/D/same.txt", b"old", 1_600_000_000).unwrap();
    server.seed_bytes(EMAIL, "/D/same.txt", b"newer one", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/D/same.txt", b"mid", 1_650_000_000).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    cli.run(&["ls", "/D/same.txt"]).await.fails(4, "3 nodes have this name");
    cli.run(&["rm", "/D/same.txt"]).await.fails(4, "dedupe");
    // skip reports and changes nothing; a dry run neither.
    let skip = cli.run(&["--json", "dedupe", "/D", "--mode", "skip"]).await.json();
    assert_eq!(skip[0]["action"], "skip");
    cli.run(&["dedupe", "/D", "--mode", "oldest", "--dry-run"]).await.ok();
    assert_eq!(cli.run(&["ls", "/D"]).await.ok().lines().len(), 3);
    // interactive: answers on stdin; keep the second listed.
    let listed = cli.run(&["--json", "ls", "/D"]).await.json();
    let second = listed[1]["handle"].as_str().unwrap().to_string();
    let ask = cli.run_with_stdin(&["dedupe", "/D"], "x\nk\n9\n2\n").await;
    assert!(ask.ok().stderr.contains("s/k/r>"), "{}", ask.stderr);
    let left = cli.run(&["--json", "ls", "/D/same.txt"]).await.json();
    assert_eq!(left[0]["handle"], second.as_str());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedupe_modes_keep_the_right_one() {
    let server = server_with_account().await;
    for dir in ["newest", "largest", "rename"] {
        server.seed_bytes(EMAIL, &format!("/{dir}/f.txt"), b"small but new", 1_700_000_000).unwrap();
        server.seed_bytes(EMAIL, &format!("/{dir}/f.txt"), b"the largest and oldest", 1_500_000_000).unwrap();
    }
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    for (mode, size) in [("newest", 13), ("largest", 22)] {
        cli.run(&["dedupe", &format!("/{mode}"), "--mode", mode]).await.ok();
        let left = cli.run(&["--json", "ls", &format!("/{mode}/f.txt")]).await.json();
        assert_eq!(left[0]["size"], size, "{mode}");
    }
    // The removed ones went to the rubbish bin.
    assert_eq!(cli.run(&["ls", "//bin"]).await.ok().lines(), ["f.txt", "f.txt"]);
    cli.run(&["dedupe", "/rename", "--mode", "rename"]).await.ok();
    assert_eq!(cli.run(&["ls", "/rename"]).await.ok().lines(), ["f-1.txt", "f-2.txt"]);
    let none = cli.run(&["dedupe", "/rename", "--mode", "first"]).await;
    assert!(none.ok().stderr.contains("no duplicate names"), "{}", none.stderr);
    server.stop().await;
}
