//! A test app: the real setup and context on the mock runtime, isolated directories, and a
//! `mega-testserver` with one account, running on its own Tokio runtime.

use std::path::PathBuf;

use serde_json::{json, Value};
use tauri::test::MockRuntime;
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};
pub(crate) use test_support::{content, totp, wait_for, EMAIL, PASSWORD};
use test_support::{server_with_account, temp_dir, TestServer};

/// A server, an app and a window.
pub(crate) struct Harness {
    pub(crate) server: TestServer,
    /// Runs the server (held, not used directly).
    _rt: tokio::runtime::Runtime,
    /// Owns the window (held, not used directly).
    _app: App<MockRuntime>,
    pub(crate) window: WebviewWindow<MockRuntime>,
    pub(crate) dir: tempfile::TempDir,
}

impl Harness {
    /// A server with one account, and an app with its own directories.
    pub(crate) fn new() -> Self {
        Self::with_plugins(|b| b)
    }

    /// [`Harness::new`] with plugins added to the mock app's builder (those of `run` a test
    /// needs).
    pub(crate) fn with_plugins(
        plugins: impl FnOnce(tauri::Builder<MockRuntime>) -> tauri::Builder<MockRuntime>,
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let server = rt.block_on(server_with_account());
        let dir = temp_dir();
        let dirs = tuatara_app::dirs::Dirs { config: dir.path().join("config"), data: dir.path().join("data") };
        let app = tuatara_app::setup(plugins(mock_builder()), dirs).unwrap().build(tuatara_app::context()).unwrap();
        let window = match app.get_webview_window("main") {
            Some(w) => w,
            None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
        };
        // Downloads go inside the test's directory.
        let mut settings: Value = self_invoke(&window, "settings_get", json!({})).unwrap();
        settings["downloadDir"] = json!(dir.path().join("downloads").to_string_lossy());
        self_invoke(&window, "settings_set", json!({ "settings": settings })).unwrap();
        Harness { server, _rt: rt, _app: app, window, dir }
    }

    /// Invokes a command as the UI does; the JSON answer or the JSON rejection.
    pub(crate) fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self_invoke(&self.window, cmd, args)
    }

    /// Invokes a command that must succeed.
    pub(crate) fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error kind of a command that must fail.
    pub(crate) fn err_kind(&self, cmd: &str, args: Value) -> String {
        let e = self.invoke(cmd, args).expect_err(cmd);
        e["kind"].as_str().unwrap_or_else(|| panic!("{cmd}: not an IpcError: {e}")).to_string()
    }

    /// Signs in as the test account (not remembered).
    pub(crate) fn sign_in(&self) -> Value {
        let step = self
            .ok("login", json!({"email": EMAIL, "password": PASSWORD, "remember": false, "apiUrl": self.server.url()}));
        assert_eq!(step["step"], "signedIn", "{step}");
        step["account"].clone()
    }

    /// The cloud drive's handle.
    pub(crate) fn cloud(&self) -> String {
        self.ok("roots", json!({}))["cloud"]["handle"].as_str().unwrap().to_string()
    }

    /// The children of a folder, by name.
    pub(crate) fn child(&self, folder: &str, name: &str) -> Option<Value> {
        let listing = self.ok("list_folder", json!({ "handle": folder }));
        listing["children"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned()
    }

    /// A second app over the same directories (as after a restart).
    pub(crate) fn reopen(&self) -> Reopened {
        let dirs =
            tuatara_app::dirs::Dirs { config: self.dir.path().join("config"), data: self.dir.path().join("data") };
        let app = tuatara_app::setup(mock_builder(), dirs).unwrap().build(tuatara_app::context()).unwrap();
        let window = match app.get_webview_window("main") {
            Some(w) => w,
            None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
        };
        Reopened { _app: app, window }
    }

    /// The downloads folder.
    pub(crate) fn downloads(&self) -> PathBuf {
        self.dir.path().join("downloads")
    }
}

fn self_invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: tauri::ipc::CallbackFn(0),
        error: tauri::ipc::CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: tauri::ipc::InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|b| b.deserialize::<Value>().unwrap())
}

/// An app reopened over a harness's directories.
pub(crate) struct Reopened {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

impl Reopened {
    /// Invokes a command that must succeed.
    pub(crate) fn ok(&self, cmd: &str, args: Value) -> Value {
        self_invoke(&self.window, cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }
}
