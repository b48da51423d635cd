//! `mega-testserver`: serves the MEGA API and storage on loopback until SIGINT/SIGTERM.
//! The first line on stdout is the base URL.

#![allow(clippy::print_stdout, clippy::print_stderr)] // A command-line program: stdout and stderr are its interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use mega_testserver::{Config, TestServer, Version};

/// A MEGA-compatible server for tests, benchmarks and the demo drive.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Data directory: accounts, sessions, the node tree, links, shares and stored ciphertext are
    /// kept there across restarts (a temporary directory, forgotten at exit, when omitted).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed the demo drive: account demo@tuatara.test, password tuatara-demo, with nested
    /// folders, a few hundred files (images with thumbnails, 52-480 MB files), duplicate names,
    /// a folder link, a #P! link (password tuatara), items in the rubbish bin and a folder
    /// shared by friend@tuatara.test (password tuatara-friend). Its links go to stderr.
    #[arg(long)]
    demo: bool,
    /// An account to create: EMAIL:PASSWORD[:v1|v2] (v2 when omitted). Repeatable.
    #[arg(long = "user", value_name = "EMAIL:PASSWORD[:v1|v2]")]
    users: Vec<String>,
    /// Seed a file, encrypted as a client would: EMAIL:/REMOTE/PATH=LOCAL_PATH. Repeatable.
    #[arg(long = "file", value_name = "EMAIL:/REMOTE/PATH=LOCAL_PATH")]
    files: Vec<String>,
    /// Inject faults, each with its rate: e.g. `eagain=0.1,500=0.05,reset=0.02,truncate=0.02,
    /// slow=0.1:2000,expired=0.01,esid=0.01` (`slow=RATE:MILLISECONDS`).
    #[arg(long, value_name = "SPEC")]
    faults: Option<mega_testserver::faults::Faults>,
    /// Limit transfer bandwidth for the whole server, in bytes per second.
    #[arg(long, value_name = "BYTES_PER_SEC")]
    throttle: Option<u64>,
    /// Limit each transfer's bandwidth, in bytes per second.
    #[arg(long, value_name = "BYTES_PER_SEC")]
    throttle_per_connection: Option<u64>,
    /// Challenge logins with hashcash at this easiness (0-255, higher is easier).
    #[arg(long, value_name = "EASINESS")]
    hashcash: Option<u8>,
    /// Seed a large tree for benchmarks: EMAIL:FOLDERS:FILES_PER_FOLDER (under /bulk; the files
    /// share one stored blob).
    #[arg(long, value_name = "EMAIL:FOLDERS:FILES")]
    bulk: Vec<String>,
    /// Print upload URLs on stderr, as `u` would give them (for benchmarks that drive the storage
    /// endpoint with curl): EMAIL:SIZE:COUNT.
    #[arg(long, value_name = "EMAIL:SIZE:COUNT")]
    upload_urls: Option<String>,
    /// Set an account's transfer quota, bytes per hour (downloads past it get HTTP 509, as on
    /// the service): EMAIL:BYTES. Repeatable.
    #[arg(long, value_name = "EMAIL:BYTES")]
    transfer_quota: Vec<String>,
    /// Turn on two-factor authentication for an account: EMAIL:BASE32SECRET. Repeatable.
    #[arg(long, value_name = "EMAIL:BASE32SECRET")]
    mfa: Vec<String>,
    /// Behave like accounts used from today's official apps: the shares and folder links the
    /// server seeds have dummy `ok`/`ha` and their keys only in `^!keys`; the demo drive also
    /// gets such a folder link (`/Music`) and such an incoming share (`Ski weekend`).
    #[arg(long)]
    official_apps: bool,
}

fn parse_user(spec: &str) -> Result<(String, String, Version), String> {
    let (email, rest) = spec.split_once(':').ok_or_else(|| format!("--user {spec:?}: expected EMAIL:PASSWORD"))?;
    let (password, version) = match rest.rsplit_once(':') {
        Some((p, "v1")) => (p, Version::V1),
        Some((p, "v2")) => (p, Version::V2),
        _ => (rest, Version::V2),
    };
    if email.is_empty() || !email.contains('@') {
        return Err(format!("--user {spec:?}: not an e-mail address"));
    }
    Ok((email.to_string(), password.to_string(), version))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let users: Result<Vec<_>, _> = args.users.iter().map(|u| parse_user(u)).collect();
    let users = match users {
        Ok(u) => u,
        Err(e) => {
            eprintln!("mega-testserver: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let server = match TestServer::start_with(Config { listen: Some(args.listen), data: args.data }).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mega-testserver: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    server.set_official_apps(args.official_apps);
    for (email, password, version) in users {
        if server.has_user(&email) {
            eprintln!("mega-testserver: account {email} kept from the data directory");
        } else if let Err(e) = server.add_user(&email, &password, version) {
            eprintln!("mega-testserver: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    if args.demo {
        match server.seed_demo() {
            Ok(d) => {
                eprintln!(
                    "mega-testserver: demo drive: {} / {}",
                    mega_testserver::demo::EMAIL,
                    mega_testserver::demo::PASSWORD
                );
                eprintln!("  {} files, {} bytes", d.files, d.bytes);
                eprintln!("  folder link:  {}", d.folder_link);
                eprintln!("  file link:    {}", d.file_link);
                eprintln!("  #P! link:     {} (password {})", d.protected_link, mega_testserver::demo::LINK_PASSWORD);
                if let Some(link) = &d.app_folder_link {
                    eprintln!("  folder link made as the official apps do: {link}");
                }
            }
            Err(e) => {
                eprintln!("mega-testserver: --demo: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    for spec in &args.bulk {
        let parts: Vec<&str> = spec.split(':').collect();
        let parsed = match parts[..] {
            [email, folders, files] => {
                folders.parse::<usize>().ok().zip(files.parse::<usize>().ok()).map(|n| (email, n))
            }
            _ => None,
        };
        let Some((email, (folders, files))) = parsed else {
            eprintln!("mega-testserver: --bulk {spec:?}: expected EMAIL:FOLDERS:FILES_PER_FOLDER");
            return std::process::ExitCode::from(2);
        };
        if server.find(email, "/bulk").is_some() {
            continue;
        }
        if let Err(e) = server.seed_bulk(email, folders, files) {
            eprintln!("mega-testserver: --bulk {spec:?}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    for spec in &args.mfa {
        let result = spec
            .split_once(':')
            .ok_or_else(|| format!("--mfa {spec:?}: expected EMAIL:BASE32SECRET"))
            .and_then(|(email, secret)| server.set_mfa(email, secret));
        if let Err(e) = result {
            eprintln!("mega-testserver: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    for spec in &args.files {
        let parsed = spec.split_once(':').and_then(|(email, rest)| rest.split_once('=').map(|(r, l)| (email, r, l)));
        let Some((email, remote, local)) = parsed else {
            eprintln!("mega-testserver: --file {spec:?}: expected EMAIL:/REMOTE/PATH=LOCAL_PATH");
            return std::process::ExitCode::from(2);
        };
        if server.find(email, remote).is_some() {
            eprintln!("mega-testserver: --file {remote}: kept from the data directory");
            continue;
        }
        if let Err(e) = server.seed_file(email, remote, std::path::Path::new(local)) {
            eprintln!("mega-testserver: --file {spec:?}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    if let Some(spec) = &args.upload_urls {
        let parts: Vec<&str> = spec.split(':').collect();
        let parsed = match parts[..] {
            [email, size, count] => size.parse::<u64>().ok().zip(count.parse::<usize>().ok()).map(|n| (email, n)),
            _ => None,
        };
        let Some((email, (size, count))) = parsed else {
            eprintln!("mega-testserver: --upload-urls {spec:?}: expected EMAIL:SIZE:COUNT");
            return std::process::ExitCode::from(2);
        };
        for _ in 0..count {
            match server.upload_url(email, size) {
                Some(url) => eprintln!("upload URL: {url}"),
                None => {
                    eprintln!("mega-testserver: --upload-urls: no account {email}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
    }
    for spec in &args.transfer_quota {
        let parsed = spec.rsplit_once(':').and_then(|(email, b)| b.parse::<u64>().ok().map(|b| (email, b)));
        let Some((email, bytes)) = parsed else {
            eprintln!("mega-testserver: --transfer-quota {spec:?}: expected EMAIL:BYTES");
            return std::process::ExitCode::from(2);
        };
        if let Err(e) = server.set_transfer_quota(email, bytes) {
            eprintln!("mega-testserver: --transfer-quota: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    server.set_hashcash(args.hashcash);
    server.set_throttle(args.throttle, args.throttle_per_connection);
    if let Some(f) = args.faults {
        server.set_faults(f);
    }
    println!("{}", server.url());
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mega-testserver: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.stop().await;
    std::process::ExitCode::SUCCESS
}
