//! The TypeScript bindings in ui/src/lib/ipc/bindings/ are generated from the DTOs; this fails
//! when the committed files drift. `TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app
//! bindings` rewrites them.

use std::collections::BTreeMap;
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
        "ui/src/lib/ipc/bindings/ drifted from src-tauri/src/dto.rs: run TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app bindings"
    );
}
