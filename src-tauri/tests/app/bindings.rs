//! The TypeScript bindings in ui/src/lib/ipc/bindings/ are generated from the DTOs and the
//! command table (`commands.ts`); this fails when the committed files drift, so a command added
//! on one side only fails here. `TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app
//! bindings` rewrites them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn committed_bindings_match_the_dtos() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/ipc/bindings");
    let fresh = tempfile::tempdir().unwrap();
    tuatara_app::dto::write_bindings(fresh.path()).unwrap();
    let generated = read_dir(fresh.path());
    assert!(generated.len() > 20, "{:?}", generated.keys());
    if std::env::var_os("TUATARA_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(&committed).unwrap();
        for old in read_dir(&committed).keys() {
            std::fs::remove_file(committed.join(old)).unwrap();
        }
        tuatara_app::dto::write_bindings(&committed).unwrap();
    }
    let on_disk = read_dir(&committed);
    assert!(
        on_disk == generated,
        "ui/src/lib/ipc/bindings/ drifted from src-tauri/src/dto.rs or command_list.rs: run TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app bindings"
    );
}

/// The command names docs/IPC.md gives in its "Commands" section: each code span that starts
/// with a snake_case name and a parenthesis.
fn commands_in_the_docs() -> BTreeSet<String> {
    let doc = include_str!("../../../docs/IPC.md");
    let section = doc.split("\n## Commands").nth(1).expect("a Commands section").split("\n## ").next().unwrap();
    // Below the heading, which shows `invoke(name, args)`.
    let (_heading, section) = section.split_once('\n').unwrap();
    section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| code.split_once('(').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_ipc_names_exactly_the_declared_commands() {
    let declared: BTreeSet<String> = tuatara_app::command_list::ALL.iter().map(|c| c.to_string()).collect();
    let documented = commands_in_the_docs();
    assert!(
        documented == declared,
        "docs/IPC.md and src-tauri/src/command_list.rs disagree: only declared {:?}, only documented {:?}",
        declared.difference(&documented).collect::<Vec<_>>(),
        documented.difference(&declared).collect::<Vec<_>>()
    );
}

#[test]
fn each_command_takes_the_argument_keys_the_table_declares() {
    // The table's types are checked at compile time; the keys (parameter names) here. Called
    // with no arguments, a command names the first one it misses.
    let h = crate::support::Harness::new();
    let with_args: Vec<_> =
        tuatara_app::ipc::argument_keys().into_iter().filter(|(_, keys)| !keys.is_empty()).collect();
    assert!(with_args.len() > 25, "{with_args:?}");
    for (cmd, keys) in with_args {
        let err = h.invoke(cmd, serde_json::json!({})).expect_err(cmd);
        let missing = err.as_str().and_then(|m| m.split("missing required key ").nth(1));
        let missing = missing.unwrap_or_else(|| panic!("{cmd}: {err}")).trim();
        assert!(keys.iter().any(|k| k == missing), "{cmd} takes {missing:?}, the table declares {keys:?}");
    }
}
