"""End to end, the real app binary in a real WebKitGTK window (Xvfb), through WebKitWebDriver:
sign in with "keep me signed in", browse into a folder, drop local files on the window with a
real XDND drag (a GTK source driven by xdotool) and find them on the server with tuatara-cli,
start a throttled download of a big file, kill -9 the app mid-download, find the session in
gnome-keyring, relaunch (no password asked), watch the download resume and finish with the same
bytes; export a folder as a links file with the keys apart through the real save dialog, paste it
with its key file into the links dialog, check and download it, see it received and shared on
the Links page; see a command the capabilities do not grant refused; preview a picture and play
a video of the drive in the viewer (a PDF drawn between), from the app's loopback stream server.
Then the desktop citizen: a `mega:` URL given to a second launch opens in the running app's links dialog; the
window closed mid-download (as a window manager closes it) leaves the app running, the download
finishes byte-identical and notifications say so (a notification server in the run's D-Bus
session records them); launching the app again shows the window; closing it with nothing running
quits; a first launch with an https://mega.nz/ link opens it in the links dialog; a start at
login (`--autostart`) continues a download cut short; with a tray host, the tray icon's menu
opens the window, pauses all and quits; a run from a build makes itself the mega: handler.

Run by scripts/e2e.sh, which starts the server, the keyring and the driver and sets:
APP, SERVER_URL, E2E_EMAIL, E2E_PASSWORD, WORK, BIG_FILE, CLI, WD_PID, SHOTS."""
import filecmp
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from wd import App, Tally, close_until, run, shown_windows, wait_until  # noqa: E402

APP, URL = os.environ["APP"], os.environ["SERVER_URL"]
EMAIL, PASSWORD = os.environ["E2E_EMAIL"], os.environ["E2E_PASSWORD"]
WORK, BIG, CLI = pathlib.Path(os.environ["WORK"]), pathlib.Path(os.environ["BIG_FILE"]), os.environ["CLI"]
SHOTS = pathlib.Path(os.environ.get("SHOTS", WORK / "shots"))
DOWNLOADS = WORK / "downloads"
HERE = pathlib.Path(__file__).resolve().parent
t = Tally()


def row(app, name, timeout=30):
    return app.wait(f'[data-testid="file-row"][data-name="{name}"]', timeout, what=f"the row of {name}")


def open_transfers(app):
    """Unfolds the transfers panel when it is folded."""
    if not app.find_all('[data-testid="transfers-panel"].open'):
        app.click(app.wait('[data-testid="transfers-panel"] button[aria-expanded]'))


def transfer_state(app, name):
    open_transfers(app)
    rows = app.find_all(f'[data-testid="transfer-row"][data-name="{name}"]')
    return app.attr(rows[0], "data-state") if rows else None


def journal_chunks():
    """Verified chunks recorded in the transfer journal (all jobs)."""
    files = (pathlib.Path(os.environ["TUATARA_DATA_DIR"]) / "transfers").glob("*.chunks")
    return sum(len(f.read_text().splitlines()) for f in files)


def app_pid():
    """The app process: the child of the WebKitWebDriver this run started."""
    out = subprocess.run(["pgrep", "-P", os.environ["WD_PID"], "-x", "tuatara"], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    return pids[0] if pids else None


def cli(*args, stdin=None):
    # Its own config dir and no D-Bus: the CLI keeps its session in a file there and never
    # touches the keyring item the app saved.
    env = dict(os.environ, XDG_CONFIG_HOME=str(WORK / "cli-config"), XDG_DATA_HOME=str(WORK / "cli-data"),
               DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent", TUATARA_API_URL=URL)
    return subprocess.run([CLI, *args], input=stdin, env=env, check=True, text=True, capture_output=True).stdout


def drag_files(app, files):
    """A real OS drag: a GTK window offering text/uri-list, pressed and moved onto the file list
    by xdotool (XTEST), dropped there."""
    target = app.rect(app.wait('[data-testid="file-list"]'))
    tx, ty = int(target["x"] + target["width"] / 2), int(target["y"] + min(target["height"] / 2, 200))
    src = subprocess.Popen(["/usr/bin/python3", str(HERE / "drag_source.py"), "1000", "560", *map(str, files)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert src.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        xd = lambda *a: subprocess.run(["xdotool", *map(str, a)], check=True)  # noqa: E731
        sx, sy = 1100, 610
        xd("mousemove", sx, sy)
        time.sleep(0.2)
        xd("mousedown", 1)
        time.sleep(0.2)
        for i in range(1, 21):
            xd("mousemove", sx + (tx - sx) * i // 20, sy + (ty - sy) * i // 20)
            time.sleep(0.05)
        time.sleep(0.3)
        xd("mouseup", 1)
        time.sleep(0.5)
    finally:
        src.kill()


def set_value(app, css, value, event):
    """Sets a form field as typing would (a long text typed key by key is slow) and fires the
    event the UI listens to."""
    app.script("const e = document.querySelector(arguments[0]); e.value = arguments[1];"
               "e.dispatchEvent(new Event(arguments[2], {bubbles: true}))", css, value, event)


def dataset(app, css, key):
    """A data attribute of every element matching, read in one go (rows re-rendered between a
    find and a read would be stale elements)."""
    return app.script("return [...document.querySelectorAll(arguments[0])].map(e => e.dataset[arguments[1]])", css, key)


def save_dialog(path, title="Save links"):
    """Answers the OS save dialog (GTK's file chooser) by typing a full path into its name."""
    def window():
        out = subprocess.run(["xdotool", "search", "--name", title], capture_output=True, text=True).stdout
        return out.split()
    wid = wait_until("the save dialog", window, 30)[-1]
    xd = lambda *a: subprocess.run(["xdotool", *map(str, a)], check=True)  # noqa: E731
    xd("windowfocus", "--sync", wid)
    time.sleep(0.5)
    xd("key", "--window", wid, "ctrl+a")
    xd("type", "--window", wid, "--delay", "20", str(path))
    time.sleep(0.3)
    xd("key", "--window", wid, "Return")
    return True


SHOTS.mkdir(parents=True, exist_ok=True)
DOWNLOADS.mkdir(parents=True, exist_ok=True)
app = App(APP)
try:
    # Sign in, keeping the session.
    t.step("the login form shows", lambda: app.wait('[data-testid="login-email"]', 60))
    app.fill_login(URL, EMAIL, PASSWORD)
    app.click(app.wait('[data-testid="login-submit"]'))
    t.step("signed in: the drive lists the seeded folder", lambda: row(app, "Inbox", 60))
    app.screenshot(SHOTS / "e2e-drive.png")

    # Browse into a folder.
    app.double_click(row(app, "Inbox"))
    t.step("browsed into Inbox: its file shows", lambda: row(app, "welcome.txt"))
    crumbs = app.script("return [...document.querySelectorAll('[data-testid=\"crumb\"]')].map(c => c.textContent.trim())")
    t.check("the breadcrumb ends at Inbox", crumbs[-1:] == ["Inbox"], crumbs)

    # A real OS drag-and-drop of two local files onto the window: uploaded into Inbox.
    dropped = [WORK / "dropped-notes.txt", WORK / "dropped-photo.bin"]
    dropped[0].write_text("dropped on the window by a real XDND drag\n" * 100)
    dropped[1].write_bytes(os.urandom(300_000))
    drag_files(app, dropped)
    for f in dropped:
        t.step(f"the dropped {f.name} is listed in Inbox", lambda f=f: row(app, f.name, 60))
    wait_until("the drop uploads finish", lambda: all(transfer_state(app, f.name) == "done" for f in dropped), 60)
    cli("login", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    back = WORK / "from-server"
    back.mkdir(exist_ok=True)
    for f in dropped:
        cli("copy", f"remote:/Inbox/{f.name}", str(back))
        t.check(f"{f.name} is on the server with the same bytes", filecmp.cmp(f, back / f.name, shallow=False))

    # A throttled big download, killed mid-way.
    app.double_click(app.wait('[data-testid="crumb"]'))  # back to the root
    big = row(app, BIG.name)
    app.right_click(big)
    app.click(app.wait('[data-testid="menu-download"]'))
    # The download's temporary file: `.NAME.JOBID.tuatara.part` beside it (mega-transfer).
    def partial_files():
        return sorted(p.name for p in DOWNLOADS.glob(f".{BIG.name}.*.tuatara.part"))
    t.step("the download runs", lambda: wait_until("the download to be active",
                                                      lambda: transfer_state(app, BIG.name) == "active", 30))
    app.screenshot(SHOTS / "e2e-transfers.png")
    # The journal records each verified chunk (one line each): kill once a few are in.
    chunks_at_kill = wait_until("a few verified chunks in the journal", lambda: journal_chunks() >= 8 and journal_chunks(), 60)
    pid = app_pid()
    t.check("the app process is found", pid is not None)
    os.kill(pid, 9)
    wait_until("the app to be gone", lambda: app_pid() is None, 10)
    t.check("killed mid-download: the file is not complete", not (DOWNLOADS / BIG.name).exists(), chunks_at_kill)
finally:
    app.close()

# The session is in gnome-keyring, under the CLI's scheme.
secret = subprocess.run(["secret-tool", "lookup", "service", "tuatara", "account", f"{EMAIL} @ {URL}"],
                        capture_output=True, text=True).stdout
t.check("the session is in gnome-keyring", len(secret) > 20)
t.check("the password is not what was stored", PASSWORD not in secret)

# Relaunch: no password asked, the download resumes and finishes verified. From the relaunch
# on, the journal is watched until it holds more chunks than at the kill: resuming from zero
# would clear it first (the engine forgets chunks whose bytes it cannot trust).
journal_low = [chunks_at_kill]


def watch_journal():
    until = time.time() + 120
    while time.time() < until:
        n = journal_chunks()
        journal_low[0] = min(journal_low[0], n)
        if n > chunks_at_kill:
            return
        time.sleep(0.05)


watcher = threading.Thread(target=watch_journal, daemon=True)
watcher.start()
app = App(APP)
try:
    t.step("relaunched: signed in without the password", lambda: app.wait('[data-testid="file-list"]', 60))
    t.check("no login form", not app.find_all('[data-testid="login-password"]'))
    t.step("the interrupted download is listed again", lambda: wait_until(
        "the transfer row", lambda: transfer_state(app, BIG.name) is not None, 30))
    watcher.join(120)
    t.check("it resumes from the verified chunks, not from zero",
            not watcher.is_alive() and journal_low[0] >= chunks_at_kill,
            f"the journal went down to {journal_low[0]} of {chunks_at_kill} chunks")
    t.step("the download finishes", lambda: wait_until(
        "the download to finish", lambda: transfer_state(app, BIG.name) == "done", 240))
    t.check("the downloaded bytes are the original's", filecmp.cmp(BIG, DOWNLOADS / BIG.name, shallow=False))
    t.check("no partial file is left", not partial_files())

    # Links files: Inbox exported as a csv links file with the keys apart, through the real
    # save dialog; the list and its key file pasted into the links dialog beside a dead link,
    # checked and downloaded; the Links page shows them received and shared, re-checked.
    app.right_click(row(app, "Inbox"))
    app.click(app.wait('[data-testid="menu-export-links"]'))
    app.wait('[data-testid="export-links-text"]', 60)
    set_value(app, '[data-testid="export-format"]', "csv", "change")
    app.click(app.wait('[data-testid="export-keys-apart"]'))
    app.click(app.wait('[data-testid="export-links-save"]'))
    links_file = WORK / "inbox-links.csv"
    key_file = pathlib.Path(f"{links_file}.keys")
    t.step("the save dialog takes the path", lambda: save_dialog(links_file))
    wait_until("the links file and its key file", lambda: links_file.exists() and key_file.exists(), 30)
    listed, keys = links_file.read_text(), key_file.read_text()
    t.check("the csv carries path, size and fingerprint per file", listed.startswith("path,size,fingerprint")
            and listed.count("https://mega.nz/file/") == 3, listed)
    key_lines = [k for k in keys.splitlines() if k.strip() and not k.startswith("#")]
    t.check("no key in the links file, three in the key file", len(key_lines) == 3
            and all(k.split()[1] not in listed for k in key_lines), keys)
    app.click(app.wait('[role="dialog"] button[aria-label="Close"]'))
    app.gone('[data-testid="export-links-text"]', 10)
    app.click(app.wait('[data-testid="open-links"]'))
    statuses = lambda: dataset(app, '[data-testid="link-row"]', "status")  # noqa: E731
    dead = "https://mega.nz/file/AAAAAAAA#" + "A" * 43
    set_value(app, '[data-testid="links-text"]', dead, "input")
    app.click(app.wait('[data-testid="links-check"]'))
    t.step("a dead link is checked", lambda: wait_until("the dead link's row", lambda: statuses() == ["removed"], 60))
    set_value(app, '[data-testid="links-text"]', listed, "input")
    app.script("document.querySelector('details.keys').open = true")
    set_value(app, '[data-testid="links-keys"]', keys, "input")
    app.click(app.wait('[data-testid="links-check"]'))
    t.step("the pasted links file is checked with its keys apart: three alive", lambda: wait_until(
        "three alive links", lambda: statuses() == ["alive"] * 3, 60))
    app.screenshot(SHOTS / "e2e-links-dialog.png")
    app.click(app.wait('[data-testid="links-download"]'))
    app.gone('[data-testid="links-dialog"]', 10)
    wait_until("the links' downloads finish", lambda: all(
        (DOWNLOADS / f.name).exists() and filecmp.cmp(f, DOWNLOADS / f.name, shallow=False) for f in dropped), 120)
    app.click(app.wait('[data-testid="open-links-page"]'))

    def received():
        """Re-checks (the ledger is written as each download ends) and reads the rows."""
        button = app.wait('[data-testid="links-recheck"]')
        if app.attr(button, "disabled") is None:
            app.click(button)
            time.sleep(1)
        return dataset(app, '[data-testid="received-row"]', "health")
    t.step("Received lists the three, re-checked alive", lambda: wait_until(
        "three received links alive", lambda: received() == ["alive"] * 3, 60, every=1))
    app.click(app.wait('[data-testid="links-tab-shared"]'))
    app.click(app.wait('[data-testid="shared-check"]'))
    shared = lambda: app.script("return [...document.querySelectorAll('[data-testid=\"shared-status\"]')]"  # noqa: E731
                                ".map(e => e.textContent.trim())")
    t.step("Shared by me lists the three exported files, alive", lambda: wait_until(
        "three shared links alive", lambda: shared() == ["Alive"] * 3, 60))
    app.screenshot(SHOTS / "e2e-links-page.png")

    # The capabilities: a registered command they do not grant is refused.
    refused = app.invoke("dropped_paths")
    t.check("a command the capabilities do not grant is refused", "err" in refused and "not allowed" in str(refused["err"]), refused)
    t.check("a granted command runs", "ok" in app.invoke("app_info"))
    app.screenshot(SHOTS / "e2e-resumed.png")

    # The viewer: a picture of the drive shown from the app's loopback stream server, then
    # (left arrow) a PDF drawn by pdf.js, then a video played by the webview's player from it;
    # space closes.
    app.click(app.wait('[data-testid="sidebar-cloud"]'))
    app.double_click(row(app, "Media", 60))
    app.click(row(app, "picture.png"))
    app.keys(" ")
    image = lambda: app.script(  # noqa: E731
        "const i = document.querySelector('[data-testid=\"viewer-image\"]');"
        "return i && i.complete ? [i.naturalWidth, i.naturalHeight, i.src] : null")
    shown = t.step("space shows the picture from the stream server", lambda: wait_until(
        "the full picture", lambda: (image() or [0])[0] > 0 and image(), 60))
    t.check("the picture is whole (96x64) and comes from 127.0.0.1",
            shown[:2] == [96, 64] and shown[2].startswith("http://127.0.0.1:"), shown)
    app.screenshot(SHOTS / "e2e-viewer-image.png")
    app.keys("\ue012")
    pdf = lambda: app.script(  # noqa: E731
        "const p = document.querySelector('[data-testid=\"viewer-pdf\"]');"
        "return p ? [Number(p.dataset.drawn), p.querySelectorAll('canvas').length] : null")
    t.step("the left arrow moves to the PDF, drawn by pdf.js", lambda: wait_until(
        "the PDF's page", lambda: (pdf() or [0])[0] >= 1, 60))
    app.screenshot(SHOTS / "e2e-viewer-pdf.png")
    app.keys("\ue012")
    video = lambda: app.script(  # noqa: E731
        "const v = document.querySelector('[data-testid=\"viewer-video\"]');"
        "return v ? {ready: v.readyState, time: v.currentTime, error: v.error && v.error.code, w: v.videoWidth} : null")
    played = t.step("the left arrow moves to the video, which plays", lambda: wait_until(
        "the video to play", lambda: (lambda v: v if v and (v["time"] > 0 or v["ready"] >= 2) else None)(video()), 60))
    t.check("the video has frames (160x120) and no error", played["w"] == 160 and not played["error"], played)
    app.screenshot(SHOTS / "e2e-viewer-video.png")
    integrity = app.text(app.wait('[data-testid="viewer-integrity"]'))
    t.check("the viewer says whether the stream is verified", "erified" in integrity, integrity)
    app.keys(" ")
    app.gone('[data-testid="viewer"]', 10)
finally:
    app.close()

# Links from outside and transfers that outlive the window, with notifications on and closing the
# window in its default mode (the background while transfers run). A notification server owns
# org.freedesktop.Notifications in the run's D-Bus session and records what the app shows.
settings_file = pathlib.Path(os.environ["TUATARA_CONFIG_DIR"]) / "settings.json"
settings = json.loads(settings_file.read_text())
settings.update(notifications=True, closeAction="background-while-transferring")
settings_file.write_text(json.dumps(settings))
notes = WORK / "notifications.jsonl"
notifier = subprocess.Popen(["/usr/bin/python3", str(HERE / "notify_server.py"), str(notes)], stdout=subprocess.PIPE,
                            text=True)


def notified(summary, body=None):
    """Whether the notification server was asked to show this."""
    shown = [json.loads(n) for n in notes.read_text().splitlines()] if notes.exists() else []
    return any(n["summary"] == summary and (body is None or n["body"] == body) for n in shown)


def launch(*args):
    """Starts the app again, as a user or a browser would, while one runs: it hands its
    arguments over and exits."""
    return subprocess.run([APP, *args], capture_output=True, text=True, timeout=60)


try:
    t.check("the notification server owns its name", notifier.stdout.readline().strip() == "ready")
    (DOWNLOADS / BIG.name).unlink()
    link = cli("link", "/Inbox/welcome.txt").strip()
    mega_url = "mega://" + link.split("mega.nz/", 1)[1]
    app = App(APP)
    try:
        t.step("relaunched with notifications on", lambda: row(app, BIG.name, 60))
        first = app_pid()
        second = launch(mega_url)
        t.check("a second launch with a mega: URL hands it over and exits", second.returncode == 0,
                second.stderr[-800:])
        links_text = lambda: app.script(  # noqa: E731
            "const e = document.querySelector('[data-testid=\"links-text\"]'); return e ? e.value : null")
        t.step("the mega: URL is in the running app's links dialog", lambda: wait_until(
            "the links dialog with the link", lambda: links_text() == mega_url, 30))
        # Alive, and already downloaded through the links dialog above (the ledger says so).
        t.step("its link is checked: the file downloaded earlier", lambda: wait_until(
            "the link's row", lambda: dataset(app, '[data-testid="link-row"]', "status") in (["done"], ["alive"]), 60))
        t.check("still one app", app_pid() == first)
        app.screenshot(SHOTS / "e2e-link-from-outside.png")
        app.click(app.wait('[role="dialog"] button[aria-label="Close"]'))
        app.gone('[data-testid="links-dialog"]', 10)

        # The window closed mid-download: hidden, not gone; the app and the download go on.
        app.right_click(row(app, BIG.name))
        app.click(app.wait('[data-testid="menu-download"]'))
        t.step("the download runs", lambda: wait_until(
            "the download to be active", lambda: transfer_state(app, BIG.name) == "active", 30))
        t.step("the window is shown", lambda: wait_until("the window", shown_windows, 10))
        t.step("closed mid-download: the window goes", lambda: close_until(
            "the window to go", lambda: not shown_windows()))
        t.check("the app keeps running", app_pid() == first)
        t.step("a notification says transfers go on", lambda: wait_until(
            "the background notification", lambda: notified("Tuatara keeps running"), 15))
        t.check("the download was not finished when the window closed", not (DOWNLOADS / BIG.name).exists())
        t.step("the download finishes with the window closed", lambda: wait_until(
            "the download to finish", lambda: (DOWNLOADS / BIG.name).exists(), 180))
        t.check("the downloaded bytes are the original's", filecmp.cmp(BIG, DOWNLOADS / BIG.name, shallow=False))
        t.step("a notification says the download finished", lambda: wait_until(
            "the finished notification", lambda: notified("Downloaded", BIG.name), 15))
        t.check("the app is still running, its window closed", app_pid() == first and not shown_windows())

        # Launched again with nothing running: the window comes back.
        t.check("a launch with no links hands over and exits", launch().returncode == 0)
        t.step("the window is shown again", lambda: wait_until("the window to come back", shown_windows, 15))
        t.check("it is the same app, its download done", app_pid() == first
                and transfer_state(app, BIG.name) == "done")
        app.screenshot(SHOTS / "e2e-shown-again.png")

        # Nothing running: closing the window quits.
        t.step("closed with nothing running: the app quits", lambda: close_until(
            "the app to quit", lambda: app_pid() is None))
    finally:
        app.close()

    # A first launch with an https://mega.nz/ link: the links dialog opens with it once signed in.
    app = App(APP, args=[link])
    try:
        t.step("launched with a link: it is in the links dialog", lambda: wait_until(
            "the links dialog with the link", lambda: links_text() == link, 60))
        # A download cut short (kill -9), then a start at login (the autostart entry's argument):
        # the kept session signs in and the engine continues the download by itself.
        app.click(app.wait('[role="dialog"] button[aria-label="Close"]'))
        app.gone('[data-testid="links-dialog"]', 10)
        (DOWNLOADS / BIG.name).unlink()
        app.right_click(row(app, BIG.name))
        app.click(app.wait('[data-testid="menu-download"]'))
        t.step("another download runs", lambda: wait_until(
            "the download to be active", lambda: transfer_state(app, BIG.name) == "active", 30))
        os.kill(app_pid(), 9)
        wait_until("the app to be gone", lambda: app_pid() is None, 10)
    finally:
        app.close()
    app = App(APP, args=["--autostart"])
    try:
        t.step("started at login: the download continues and finishes", lambda: wait_until(
            "the download to finish", lambda: transfer_state(app, BIG.name) == "done", 180))
        t.check("its bytes are the original's", filecmp.cmp(BIG, DOWNLOADS / BIG.name, shallow=False))
    finally:
        app.close()

    # With a tray host (a StatusNotifierWatcher, as a desktop panel runs): the tray icon, whose
    # menu opens the window, pauses all transfers and quits; closing the window says nothing.
    items = WORK / "tray-items.jsonl"
    host = subprocess.Popen(["/usr/bin/python3", str(HERE / "tray_host.py"), str(items)], stdout=subprocess.PIPE,
                            text=True)
    tray = lambda label: subprocess.run(  # noqa: E731
        ["/usr/bin/python3", str(HERE / "tray_host.py"), "click", str(items), label], check=True)
    try:
        t.check("the tray host owns its name", host.stdout.readline().strip() == "ready")
        app = App(APP)
        try:
            t.step("the tray icon is registered with the tray host", lambda: wait_until(
                "the tray icon", lambda: items.exists() and items.read_text().strip(), 60))
            (DOWNLOADS / BIG.name).unlink()
            app.right_click(row(app, BIG.name, 60))
            app.click(app.wait('[data-testid="menu-download"]'))
            t.step("a download runs", lambda: wait_until(
                "the download to be active", lambda: transfer_state(app, BIG.name) == "active", 30))
            told = notes.read_text().count("Tuatara keeps running")
            t.step("closed mid-download: the window goes", lambda: close_until(
                "the window to go", lambda: not shown_windows()))
            time.sleep(2)
            t.check("the app keeps running, no notification (the tray shows it)", app_pid() is not None
                    and notes.read_text().count("Tuatara keeps running") == told)
            tray("Open Tuatara")
            t.step("the tray's Open shows the window", lambda: wait_until("the window", shown_windows, 15))
            tray("Pause all transfers")
            t.step("the tray's Pause all pauses the download", lambda: wait_until(
                "the download to pause", lambda: transfer_state(app, BIG.name) == "paused", 15))
            tray("Quit")
            t.step("the tray's Quit quits", lambda: wait_until("the app to quit", lambda: app_pid() is None, 15))
        finally:
            app.close()
    finally:
        host.kill()

    # A run from a build (no installed package, the user's own directories: a throwaway home
    # here) makes itself the handler of mega: URLs when there is none.
    home = WORK / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("TUATARA_CONFIG_DIR", "TUATARA_DATA_DIR")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
    handler = lambda: subprocess.run(  # noqa: E731
        ["xdg-mime", "query", "default", "x-scheme-handler/mega"], env=env, capture_output=True, text=True).stdout.strip()
    t.check("no mega: handler before", handler() == "")
    plain = subprocess.Popen([APP], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t.step("a run from a build is the mega: handler", lambda: wait_until(
            "the handler", lambda: handler() == "tuatara-handler.desktop", 30))
        entry = (home / ".local/share/applications/tuatara-handler.desktop").read_text()
        t.check("its entry runs this binary with the URL", f'Exec="{APP}" %u' in entry
                and "x-scheme-handler/mega" in entry, entry)
    finally:
        plain.kill()
        plain.wait()
finally:
    notifier.kill()
t.finish()
