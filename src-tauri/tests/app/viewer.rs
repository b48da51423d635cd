//! The viewer: files of the own drive, of an incoming share and inside a folder link (before
//! any import) streamed from the app's loopback stream server, byte for byte, with ranges;
//! the integrity verdict once every byte was read; the start of a text file and pieces over IPC;
//! a wrong token and a signed-out session refused; the CSP the window gets names exactly the
//! stream origin.

use mega_testserver::Version;
use serde_json::{json, Value};
use tauri::Manager;

use crate::support::{content, Harness, EMAIL};

/// GET `url` (with `Range: bytes=A-B` for `Some((a, b))`, `b` exclusive): status and body.
fn get(url: &str, range: Option<(u64, u64)>) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if let Some((a, b)) = range {
            request = request.header("Range", format!("bytes={a}-{}", b - 1));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    })
}

fn url_of(stream: &Value) -> &str {
    stream["url"].as_str().unwrap()
}

/// The handle of `name` among a folder link's nodes.
fn in_link(browsed: &Value, name: &str) -> Value {
    browsed["nodes"].as_array().unwrap().iter().find(|n| n["name"] == name).unwrap()["handle"].clone()
}

#[test]
fn own_shared_and_folder_link_files_stream_until_sign_out() {
    let h = Harness::new();
    let data = content((24 << 20) + 17, 3);
    h.server.seed_bytes(EMAIL, "/Clips/film one.bin", &data, 1_700_000_000).unwrap();
    h.server.seed_bytes(EMAIL, "/Clips/notes.txt", b"first line\nsecond line\n", 1_700_000_000).unwrap();
    let shared = content(200_000, 9);
    h.server.add_user("bob@example.com", "pw", Version::V2).unwrap();
    h.server.seed_bytes("bob@example.com", "/team/plan.bin", &shared, 1_700_000_000).unwrap();
    h.server.share_folder("bob@example.com", "/team", EMAIL, 0).unwrap();
    // Before sign-in there is nothing to stream.
    assert_eq!(h.err_kind("stream_url", json!({"handle": "AAAAAAAA"})), "notSignedIn");
    h.sign_in();
    let cloud = h.cloud();
    let clips = h.child(&cloud, "Clips").unwrap()["handle"].as_str().unwrap().to_string();
    let film = h.child(&clips, "film one.bin").unwrap();

    // The own drive: a range in the middle, then the last bytes (a seek into the last chunk).
    let stream = h.ok("stream_url", json!({"handle": film["handle"]}));
    let url = url_of(&stream).to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/film%20one.bin"), "{url}");
    assert_eq!(stream["size"], data.len());
    let (status, body) = get(&url, Some((1000, 1_500_000)));
    assert_eq!(status, 206);
    assert!(body == data[1000..1_500_000]);
    let end = data.len() as u64;
    let (status, body) = get(&url, Some((end - 5000, end)));
    assert_eq!((status, body.as_slice()), (206, &data[data.len() - 5000..]));
    let verdict = h.ok("stream_integrity", json!({"id": stream["id"]}));
    assert_eq!(verdict["verdict"], "unverified", "{verdict}");
    // The same file has the same URL; read whole, it is verified.
    assert_eq!(h.ok("stream_url", json!({"handle": film["handle"]}))["url"], url.as_str());
    let (status, body) = get(&url, None);
    assert_eq!(status, 200);
    assert!(body == data);
    assert_eq!(h.ok("stream_integrity", json!({"id": stream["id"]}))["verdict"], "verified");

    // Pieces over IPC (the PDF viewer's), at most 1 MiB at once.
    use base64::Engine as _;
    let piece = h.ok("stream_read", json!({"id": stream["id"], "offset": 5_000_000, "length": 70_000}));
    let piece = base64::engine::general_purpose::STANDARD.decode(piece.as_str().unwrap()).unwrap();
    assert!(piece == data[5_000_000..5_070_000]);
    assert_eq!(h.err_kind("stream_read", json!({"id": stream["id"], "offset": 0, "length": 2 << 20})), "invalid");

    // A folder is not streamed; a text file's start comes over IPC.
    assert_eq!(h.err_kind("stream_url", json!({"handle": clips})), "invalid");
    let notes = h.ok("stream_url", json!({"handle": h.child(&clips, "notes.txt").unwrap()["handle"]}));
    let text = h.ok("stream_text", json!({"id": notes["id"]}));
    assert_eq!((text["text"].as_str().unwrap(), &text["truncated"]), ("first line\nsecond line\n", &json!(false)));

    // An incoming share.
    let team = h.ok("roots", json!({}))["shares"][0]["handle"].as_str().unwrap().to_string();
    let plan = h.ok("stream_url", json!({"handle": h.child(&team, "plan.bin").unwrap()["handle"]}));
    let (status, body) = get(url_of(&plan), Some((65_000, 140_001)));
    assert_eq!((status, body.as_slice()), (206, &shared[65_000..140_001]));

    // A file inside a folder link, browsed and not imported.
    let link = h.ok("get_link", json!({"handle": clips}))["link"].as_str().unwrap().to_string();
    let browsed = h.ok("folder_link_open", json!({ "link": link }));
    let in_folder = h.ok("folder_link_stream_url", json!({"link": link, "handle": in_link(&browsed, "film one.bin")}));
    assert_ne!(in_folder["url"], url.as_str());
    let (status, body) = get(url_of(&in_folder), Some((2_000_000, 2_100_000)));
    assert_eq!((status, body.as_slice()), (206, &data[2_000_000..2_100_000]));

    // A wrong token, or an id the session does not know, finds nothing.
    let token = url.split('/').nth(3).unwrap();
    let wrong = url.replacen(token, &"A".repeat(token.len()), 1);
    assert_eq!(get(&wrong, Some((0, 10))).0, 404);
    let id = stream["id"].as_str().unwrap();
    assert_eq!(get(&url.replacen(id, "x", 1), Some((0, 10))).0, 404);
    assert_eq!(h.err_kind("stream_integrity", json!({"id": "nope"})), "notFound");

    // After sign-out every URL of the session is refused.
    h.ok("logout", json!({}));
    assert_eq!(get(&url, Some((0, 10))).0, 404);
    assert_eq!(get(url_of(&in_folder), Some((0, 10))).0, 404);
    assert_eq!(h.err_kind("stream_integrity", json!({"id": stream["id"]})), "notFound");

    // Signed in again: a new token, the old URL still refused.
    h.sign_in();
    let again = h.ok("stream_url", json!({"handle": film["handle"]}));
    assert_ne!(url_of(&again).split('/').nth(3), Some(token));
    assert_eq!(get(&url, Some((0, 10))).0, 404);
    assert_eq!(get(url_of(&again), Some((0, 10))), (206, data[..10].to_vec()));
}

/// The CSP the window gets (the header its pages are served with) names the stream server's
/// origin for pictures and players, and no wildcard nor any other origin.
#[test]
fn the_window_csp_names_exactly_the_stream_origin() {
    let streams = tuatara_app::viewer::bind_streams().unwrap();
    let origin = streams.origin();
    let mut context = tuatara_app::context();
    tuatara_app::viewer::allow_stream_origin(&mut context, &origin);
    let dir = test_support::temp_dir();
    let dirs = tuatara_app::dirs::Dirs { config: dir.path().join("config"), data: dir.path().join("data") };
    let app = tuatara_app::setup_with_streams(tauri::test::mock_builder(), dirs, Some(streams))
        .unwrap()
        .build(context)
        .unwrap();
    let asset = app.asset_resolver().get("index.html".to_string()).unwrap();
    let csp = asset.csp_header().expect("a CSP header").to_string();
    let directives: Vec<(&str, Vec<&str>)> = csp
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            Some((words.next()?, words.collect()))
        })
        .collect();
    for (name, sources) in &directives {
        assert!(!sources.iter().any(|s| s.contains('*')), "a wildcard in {name}: {csp}");
        let stream_sources: Vec<&&str> = sources.iter().filter(|s| s.starts_with("http://127.")).collect();
        if tuatara_app::viewer::STREAM_DIRECTIVES.contains(name) {
            assert_eq!(stream_sources, [&origin.as_str()], "{name}: {csp}");
        } else {
            assert!(stream_sources.is_empty(), "{name} names the stream server: {csp}");
        }
    }
    for name in tuatara_app::viewer::STREAM_DIRECTIVES {
        assert!(directives.iter().any(|(n, _)| n == name), "no {name}: {csp}");
    }
    // The app serves its streams on that very origin.
    assert_eq!(app.state::<tuatara_app::state::AppState>().streams.get().unwrap().origin(), origin);
}
