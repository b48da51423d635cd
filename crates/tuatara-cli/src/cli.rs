//! The command line (clap derive): global options and one variant per command.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_CODES;

/// An rclone-style command-line client for MEGA.
///
/// Remote paths look like `/dir/file` (the cloud drive), `//bin/file` (the rubbish bin) or
/// `//shares/<share>/file` (incoming shares; `ls //shares` lists them); a MEGA link is accepted wherever a remote path
/// is read. Data goes to stdout, messages to stderr.
#[derive(Debug, Parser)]
#[command(name = "tuatara-cli", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// The MEGA API URL (a test server, or the service by default).
    #[arg(long, global = true, env = "TUATARA_API_URL", value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// Print data as JSON on stdout, for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// No notes or spinners on stderr (errors and warnings are still printed).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// More on stderr from the libraries below the command (by default: the client's warnings,
    /// such as a retried request): -v the engine's warnings and notes too (retries, quota
    /// waits, watches), -vv debug, -vvv trace. Keys, session ids and passwords are redacted at
    /// every level. `TUATARA_LOG` (tracing's filter syntax) overrides it.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The password of a #P! link given where a remote path is read.
    #[arg(long, global = true, env = "TUATARA_LINK_PASSWORD", value_name = "P", hide_env_values = true)]
    pub(crate) link_password: Option<String>,
    /// The key of a link given without it.
    #[arg(long, global = true, value_name = "KEY")]
    pub(crate) link_key: Option<String>,
    /// Fetch the whole file tree for this command instead of starting from the node cache
    /// (which is then neither read nor written).
    #[arg(long, global = true)]
    pub(crate) no_cache: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in and store the session (OS keyring, or a 0600 file when there is none).
    Login(LoginArgs),
    /// Log out: end the session on the server and forget it here.
    Logout,
    /// Print the logged-in account.
    Whoami,
    /// Storage and transfer quota.
    Quota,
    /// A report to attach to a bug report: versions, settings, unfinished transfers, watches
    /// and the links ledger's counts, with session ids, keys and link keys redacted.
    Diagnostics {
        /// Write it to this file (readable by you only) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// List a folder (or a folder link).
    Ls(LsArgs),
    /// List only the folders of a folder.
    Lsd(LsArgs),
    /// Print a folder as a tree.
    Tree {
        /// Folder or link (default: the cloud drive).
        path: Option<String>,
    },
    /// Find nodes whose name matches a glob (`*`, `?`).
    Find {
        /// The glob.
        pattern: String,
        /// Where to look (default: the cloud drive).
        #[arg(long = "in", value_name = "PATH")]
        within: Option<String>,
    },
    /// Create a folder.
    Mkdir {
        /// The folder to create.
        path: String,
        /// Create missing parents; no error if it exists.
        #[arg(short, long)]
        parents: bool,
    },
    /// Move or rename.
    Mv {
        /// What to move.
        src: String,
        /// An existing folder to move into, or a new path (name).
        dst: String,
    },
    /// Copy on the server (no data moves).
    Cp {
        /// What to copy.
        src: String,
        /// An existing folder to copy into, or a new path (name).
        dst: String,
    },
    /// Move to the rubbish bin (or delete for good).
    Rm {
        /// What to remove.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Delete for good instead of moving to the rubbish bin.
        #[arg(long)]
        permanent: bool,
    },
    /// Move nodes out of the rubbish bin to where they were deleted from.
    Restore {
        /// Paths in the rubbish bin (`//bin/name`, or just `name`).
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Make a public link (`link PATH`), or decrypt a #P! link (`link decrypt URL`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Link(LinkArgs),
    /// Work with many links at once.
    Links {
        #[command(subcommand)]
        action: LinksAction,
    },
    /// Import a file or folder link into the drive.
    Import {
        /// The link.
        link: String,
        /// The folder to import into (default: the cloud drive).
        dest: Option<String>,
        /// The password of a #P! link.
        #[arg(long, value_name = "P")]
        password: Option<String>,
    },
    /// Deal with duplicate names (MEGA allows several nodes of one name in a folder).
    Dedupe(DedupeArgs),
    /// Download files, folders (recursively) and links into a local folder, keeping names.
    ///
    /// With one argument it downloads into the current folder; with more, the last one is the
    /// local folder. The same command run again after an interruption continues where it was.
    Get(GetArgs),
    /// Write a file (or a byte range of it) to standard output, streamed: only the pieces
    /// asked for are fetched and decrypted.
    ///
    /// The meta-MAC covers the whole file: a whole file read ends verified (a damaged one fails
    /// after its bytes, exit 1); a part read cannot be verified, and a note says so.
    Cat(CatArgs),
    /// Serve files over a local protocol for players and browsers.
    Serve {
        #[command(subcommand)]
        action: ServeAction,
    },
    /// Upload local files and folders (recursively) into a remote folder.
    ///
    /// With one argument it uploads into the cloud drive's root; with more, the last one is the
    /// remote folder. The same command run again after an interruption continues where it was.
    Put(PutArgs),
    /// Copy the contents of a folder between the computer and MEGA, skipping identical files.
    ///
    /// The remote side is written `remote:PATH` (`remote:/Backup`); the other side is a local
    /// path. `copy ./photos remote:/Photos` uploads, `copy remote:/Photos ./photos` downloads.
    Copy(CopyArgs),
    /// Watched folders (uploaded as files settle) and watched links files (new links
    /// downloaded): add, list, pause, resume, remove, and run them in the foreground.
    Watch {
        #[command(subcommand)]
        action: WatchAction,
    },
    /// Continue every unfinished transfer in the journal.
    Resume(TransferOpts),
    /// List the unfinished transfers in the journal.
    Transfers,
}

/// Options of the commands that move data.
#[derive(Debug, Clone, Args)]
pub(crate) struct TransferOpts {
    /// Connections per file.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub(crate) connections: u16,
    /// Files moving at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) transfers: u16,
    /// Speed limit in bytes per second (for downloads and uploads each).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "bwlimit")]
    pub(crate) limit_rate: Option<u64>,
    /// Speed limits as rclone writes them: one rate for both ways (`10M`), `UP:DOWN`
    /// (`1M:256K`), or a timetable of `[DAY-]HH:MM,RATE` entries applied while running
    /// (`"08:00,1M:256K 18:00,off"`). A bare number is KiB/s; `off` is unlimited.
    #[arg(long, value_name = "LIMITS")]
    pub(crate) bwlimit: Option<String>,
}

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Remote paths or links, then (with two or more arguments) the local folder.
    #[arg(required = true, value_name = "REMOTE|LINK... [LOCALDIR]")]
    pub(crate) args: Vec<String>,
    /// The password of #P! links.
    #[arg(long, value_name = "P")]
    pub(crate) password: Option<String>,
    #[command(flatten)]
    pub(crate) opts: TransferOpts,
}

/// `put`.
#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// Local files or folders, then (with two or more arguments) the remote folder.
    #[arg(required = true, value_name = "LOCAL... [REMOTEDIR]")]
    pub(crate) args: Vec<String>,
    #[command(flatten)]
    pub(crate) opts: TransferOpts,
}

/// `copy`.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// What to copy: a local folder or file, or `remote:PATH`.
    pub(crate) src: String,
    /// Where to: `remote:PATH` (created when missing), or a local folder.
    pub(crate) dst: String,
    #[command(flatten)]
    pub(crate) opts: TransferOpts,
}

/// `login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The e-mail (asked for when missing).
    pub(crate) email: Option<String>,
    /// Read the password from the first line of stdin (a two-factor code may follow on the
    /// second line) instead of prompting.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The two-factor code, for accounts with 2FA (asked for when needed and missing).
    #[arg(long, value_name = "CODE")]
    pub(crate) mfa: Option<String>,
}

/// `cat`.
#[derive(Debug, Args)]
pub(crate) struct CatArgs {
    /// The file: a remote path or a link.
    pub(crate) remote: String,
    /// The first byte to write.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) offset: u64,
    /// How many bytes to write (default: to the end).
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
}

/// `serve`'s protocols.
#[derive(Debug, Subcommand)]
pub(crate) enum ServeAction {
    /// A local HTTP server (as MEGA's SDK and rclone have) for mpv, VLC and browsers: a folder
    /// as an index, files with Range, HEAD, Content-Type, Accept-Ranges and ETag.
    ///
    /// Prints its URL (the file's, or the folder index's), then serves until Ctrl-C. Every URL
    /// carries a token made for this run: share it as you would the files. It binds a loopback
    /// address unless --allow-non-loopback, and answers only requests addressed to the address
    /// it bound (no DNS names: DNS rebinding).
    Http(ServeHttpArgs),
}

/// `serve http`.
#[derive(Debug, Args)]
pub(crate) struct ServeHttpArgs {
    /// What to serve: a remote file or folder, or a link (default: the cloud drive).
    pub(crate) remote: Option<String>,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "IP:PORT")]
    pub(crate) addr: std::net::SocketAddr,
    /// Allow an address that other machines reach (anyone with the URL reads the files).
    #[arg(long)]
    pub(crate) allow_non_loopback: bool,
}

/// `ls` and `lsd`.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Folder, file or link (default: the cloud drive).
    pub(crate) path: Option<String>,
    /// Long listing: size, modification time, handle.
    #[arg(short, long)]
    pub(crate) long: bool,
    /// Recurse into folders.
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
}

/// `link`.
#[derive(Debug, Args)]
pub(crate) struct LinkArgs {
    #[command(subcommand)]
    pub(crate) action: Option<LinkAction>,
    /// The file or folder to export.
    #[arg(required = true)]
    pub(crate) path: Option<String>,
    /// Print the link and its key on separate lines.
    #[arg(long, conflicts_with = "password")]
    pub(crate) no_key: bool,
    /// Protect the link with a password (a #P! link).
    #[arg(long, value_name = "P")]
    pub(crate) password: Option<String>,
    /// Remove the node's public link instead.
    #[arg(long, conflicts_with_all = ["no_key", "password"])]
    pub(crate) delete: bool,
}

/// `link decrypt`.
#[derive(Debug, Subcommand)]
pub(crate) enum LinkAction {
    /// Turn a #P! link into its plain link (offline).
    Decrypt {
        /// The #P! link.
        url: String,
        /// Its password (asked for when missing).
        #[arg(long, value_name = "P")]
        password: Option<String>,
    },
}

/// The exit codes of `links check`.
const LINKS_CHECK_EXIT: &str = "\
Exit codes:
  0  every link is alive
  6  some are removed, taken down, changed, bad, or wait for a key or a password
  (others as in `tuatara-cli --help`: 1 other failure, 3 no such file or no links in it, ...)";

/// `links`.
#[derive(Debug, Subcommand)]
pub(crate) enum LinksAction {
    /// Export every file below a folder: one file link per line (or a links file with each
    /// file's path, size, fingerprint and mtime; keys apart; #P! links; the folder as one link).
    Export(ExportArgs),
    /// Re-check every MEGA link of a text file (`-`: stdin), or every link in the ledger
    /// (`--ledger`): alive, removed, taken down, changed, needs key, needs password or bad, and
    /// names that hide what a file is. With --ledger the time and the status (with a short
    /// history of changes) are recorded in the ledger.
    #[command(after_help = LINKS_CHECK_EXIT)]
    Check {
        /// The file to read links from, or `-` for stdin.
        #[arg(required_unless_present = "ledger", conflicts_with = "ledger")]
        file: Option<String>,
        /// Re-check every link in the ledger (by its public handle: the ledger keeps no key).
        #[arg(long)]
        ledger: bool,
        /// The password of #P! links (without it they wait for one).
        #[arg(long, value_name = "P")]
        password: Option<String>,
    },
    /// Download every MEGA link found in a text file (`-`: stdin), checking each first; a
    /// ledger keeps what is done, so a second run skips it.
    Get {
        /// The file to read links from, or `-` for stdin.
        file: String,
        /// The local folder (default: the current folder).
        #[arg(long, value_name = "DIR")]
        to: Option<String>,
        /// The password of #P! links (without it they wait for one).
        #[arg(long, value_name = "P")]
        password: Option<String>,
        /// Only check the links; download nothing.
        #[arg(long, conflicts_with = "watch")]
        check: bool,
        /// A key file (`links export --keys-apart`) for links that came without their key,
        /// joined by public handle.
        #[arg(long, value_name = "KEYFILE", conflicts_with = "watch")]
        keys: Option<String>,
        /// Download links that point at something else than their csv/json links file says
        /// (name, size or fingerprint changed) as they are now, instead of skipping them.
        #[arg(long, conflicts_with_all = ["watch", "check"])]
        allow_changed: bool,
        /// Keep watching the file after the links in it are done: links added to it later are
        /// downloaded too, until Ctrl-C or SIGTERM (the file must be a file, not `-`).
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        timing: WatchTiming,
        #[command(flatten)]
        opts: TransferOpts,
    },
}

/// `links export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The folder.
    pub(crate) folder: String,
    /// plain: one link a line; csv and json: path, size, fingerprint, mtime and link per file.
    #[arg(long, value_enum, default_value_t = ListFormatArg::Plain)]
    pub(crate) format: ListFormatArg,
    /// Write the links without their keys, and the keys (HANDLE KEY a line, 0600) to KEYFILE.
    #[arg(long, value_name = "KEYFILE", conflicts_with = "password")]
    pub(crate) keys_apart: Option<String>,
    /// Make every link a #P! link protected by this password.
    #[arg(long, value_name = "P")]
    pub(crate) password: Option<String>,
    /// Export the folder as one folder link instead of a link per file.
    #[arg(long)]
    pub(crate) as_folder: bool,
    /// Write the list to FILE (0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<String>,
}

/// `links export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormatArg {
    /// One link a line.
    Plain,
    /// CSV with a header.
    Csv,
    /// A JSON array.
    Json,
}

/// `watch`.
#[derive(Debug, Subcommand)]
pub(crate) enum WatchAction {
    /// Watch a local folder: every file that appears or changes in it (recursively) is uploaded
    /// into the remote folder once it has stopped changing. A backup: local deletions are not
    /// propagated unless --propagate-deletes is given (then remote copies go to the rubbish bin).
    ///
    /// With --links: watch a links file (or a folder of .txt and .links files) instead and
    /// download the MEGA links added to it into the local folder.
    ///
    /// Nothing moves until `watch run` (or the app) runs the watch.
    Add(WatchAddArgs),
    /// List the watches: id, kind, what is watched and where it goes, paused or running, last
    /// activity, files done, last error.
    List,
    /// Pause watches (a running `watch run` stops starting transfers for them).
    Pause {
        /// Watch ids (see `watch list`).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Resume paused watches.
    Resume {
        /// Watch ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Remove watches (nothing local or remote is deleted; a running `watch run` stops them).
    Remove {
        /// Watch ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Run watches in the foreground until Ctrl-C or SIGTERM (for servers and services): every
    /// watch (also those added while it runs), or the ones given. Interrupted transfers of a
    /// watch are continued; a start-up scan catches up with what changed while nothing ran.
    Run(WatchRunArgs),
}

/// `watch add`.
#[derive(Debug, Args)]
pub(crate) struct WatchAddArgs {
    /// The local folder to back up (with --links: the links file, or a folder of them).
    #[arg(value_name = "LOCAL")]
    pub(crate) src: String,
    /// The remote folder, created when missing (with --links: the local download folder).
    #[arg(value_name = "REMOTE|LOCALDIR")]
    pub(crate) dst: String,
    /// Watch a links file (or folder of links files) and download new links into LOCALDIR.
    #[arg(long)]
    pub(crate) links: bool,
    /// Move remote copies of files deleted locally to the rubbish bin (never deleted for good).
    #[arg(long, conflicts_with = "links")]
    pub(crate) propagate_deletes: bool,
    /// Also ignore files and folders whose name matches this glob (`*`, `?`); repeatable.
    /// Partial downloads, temporary and lock files and .DS_Store are always ignored.
    #[arg(long, value_name = "GLOB", conflicts_with = "links")]
    pub(crate) ignore: Vec<String>,
}

/// `watch run`.
#[derive(Debug, Args)]
pub(crate) struct WatchRunArgs {
    /// The watches to run (default: every watch, also those added while it runs).
    pub(crate) ids: Vec<String>,
    /// A password to try on #P! links of links watches; repeatable (never stored).
    #[arg(long, value_name = "P")]
    pub(crate) password: Vec<String>,
    #[command(flatten)]
    pub(crate) timing: WatchTiming,
    #[command(flatten)]
    pub(crate) opts: TransferOpts,
}

/// How watches wait and rescan.
#[derive(Debug, Clone, Args)]
pub(crate) struct WatchTiming {
    /// Seconds a file must stay unchanged before it is uploaded (or a links file read).
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = seconds)]
    pub(crate) settle: f64,
    /// Seconds between full rescans (filesystem events can be lost).
    #[arg(long, value_name = "SECONDS", default_value_t = 900.0, value_parser = seconds)]
    pub(crate) rescan_every: f64,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.05..=86_400.0 * 7.0).contains(&v) => Ok(v),
        _ => Err("a number of seconds between 0.05 and 604800".into()),
    }
}

/// `dedupe`.
#[derive(Debug, Args)]
pub(crate) struct DedupeArgs {
    /// Where to look, recursively (default: the cloud drive).
    pub(crate) path: Option<String>,
    /// What to do with each set of duplicates.
    #[arg(long, value_enum, default_value_t = DedupeMode::Interactive)]
    pub(crate) mode: DedupeMode,
    /// Only say what would be done.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Delete removed duplicates for good instead of moving them to the rubbish bin.
    #[arg(long)]
    pub(crate) permanent: bool,
}

/// rclone's dedupe modes. Duplicate folders are merged first (their contents moved into the
/// first one) except in `interactive`, `skip` and `rename` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DedupeMode {
    /// Ask for each set: skip, keep one, or rename all.
    Interactive,
    /// Report duplicates, change nothing.
    Skip,
    /// Keep the first one listed.
    First,
    /// Keep the most recently modified.
    Newest,
    /// Keep the least recently modified.
    Oldest,
    /// Keep the largest.
    Largest,
    /// Keep the smallest.
    Smallest,
    /// Rename all to be different (`name-1.ext`, `name-2.ext`, ...).
    Rename,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn link_takes_a_path_or_decrypt() {
        let c = Cli::try_parse_from(["t", "link", "/a.txt", "--no-key"]).unwrap();
        assert!(matches!(c.command, Command::Link(LinkArgs { path: Some(_), no_key: true, .. })));
        let c = Cli::try_parse_from(["t", "link", "decrypt", "https://mega.nz/#P!x", "--password", "p"]).unwrap();
        assert!(matches!(c.command, Command::Link(LinkArgs { action: Some(LinkAction::Decrypt { .. }), .. })));
        assert!(Cli::try_parse_from(["t", "link"]).is_err());
        assert!(Cli::try_parse_from(["t", "link", "/a", "--no-key", "--password", "p"]).is_err());
        let c = Cli::try_parse_from(["t", "watch", "add", "--links", "l.txt", "dl"]).unwrap();
        assert!(matches!(c.command, Command::Watch { action: WatchAction::Add(WatchAddArgs { links: true, .. }) }));
        assert!(Cli::try_parse_from(["t", "watch", "add", "--links", "l.txt", "dl", "--propagate-deletes"]).is_err());
        assert!(Cli::try_parse_from(["t", "watch", "run", "--settle", "0"]).is_err());
        let c = Cli::try_parse_from(["t", "dedupe", "--mode", "newest", "/D"]).unwrap();
        assert!(matches!(c.command, Command::Dedupe(DedupeArgs { mode: DedupeMode::Newest, .. })));
    }
}
