"""Screenshots of the real app on the demo drive (run by scripts/screenshot.sh under Xvfb):
login, drive, transfers with a download running, the links dialog, and the viewer showing a
photo and playing a video of the demo drive; then signed in to a
mega-testserver account whose transfer quota runs out (a real 509): the quota banner with the
transfer row waiting, and the window closed with the download waiting: the desktop notification
that transfers go on (drawn by dunst; the whole screen). PNGs in $SHOTS. Prints
`N passed, N failed` like the other e2e scripts."""
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wd import App, Tally, close_until, shown_windows, wait_until  # noqa: E402

SHOTS = pathlib.Path(os.environ["SHOTS"])
SHOTS.mkdir(parents=True, exist_ok=True)
t = Tally()
app = App(os.environ["APP"])
try:
    t.step("the login screen", lambda: app.wait('[data-testid="open-demo"]', 60))
    app.screenshot(SHOTS / "login.png")
    app.click(app.wait('[data-testid="open-demo"]'))
    # The first start seeds the demo drive (a few hundred MB): give it time.
    rows = t.step("the demo drive", lambda: app.wait('[data-testid="file-row"]', 600))
    app.screenshot(SHOTS / "drive.png")

    app.double_click(app.wait('[data-testid="file-row"][data-name="Datasets"]'))
    big = app.wait('[data-testid="file-row"][data-name="sensor-log-2024.dat"]', 30)
    app.right_click(big)
    app.click(app.wait('[data-testid="menu-download"]'))
    t.step("a download runs", lambda: wait_until(
        "an active transfer", lambda: app.find_all('[data-testid="transfer-row"][data-state="active"]'), 60))
    if not app.find_all('[data-testid="transfers-panel"].open'):
        app.click(app.wait('[data-testid="transfers-panel"] button[aria-expanded]'))
    # A shot with bytes moving: past the first verified chunks.
    t.step("the download shows progress", lambda: wait_until("progress", lambda: app.script(
        "const b = document.querySelector('[data-testid=\"transfer-row\"] [role=progressbar]');"
        "return b && Number(b.getAttribute('aria-valuenow')) >= 2;"), 60))
    app.screenshot(SHOTS / "transfers.png")

    handle = app.attr(big, "data-handle")
    link = app.invoke("get_link", {"handle": handle})["ok"]["link"]
    app.click(app.wait('[data-testid="open-links"]'))
    # Typed keys under Xvfb lose shifted characters (':' '#' capitals), which a link has many
    # of: the text goes in as a paste would, through the textarea's input event.
    app.wait('[data-testid="links-text"]')
    app.script("const el = document.querySelector('[data-testid=\"links-text\"]');"
               "el.value = arguments[0]; el.dispatchEvent(new Event('input', {bubbles: true}));",
               f"Links from a forum post:\n{link}\nhttps://mega.nz/file/AAAAAAAA#bad\n")
    app.click(app.wait('[data-testid="links-check"]'))
    t.step("the links dialog checked them", lambda: wait_until(
        "checked links", lambda: len(app.find_all('[data-testid="link-row"]')) >= 2, 30))
    app.screenshot(SHOTS / "links.png")
    app.script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))")

    # The viewer on the demo drive: a photo, then (the right arrow) the clip beside it, played
    # by the webview's player from the app's loopback stream server.
    app.click(app.wait('[data-testid="sidebar-cloud"]'))
    app.double_click(app.wait('[data-testid="file-row"][data-name="Camera Uploads"]', 30))
    app.click(app.wait('[data-testid="file-row"][data-name="PXL_20251108.jpg"]', 30))
    app.keys(" ")
    t.step("space shows the photo", lambda: wait_until("the photo", lambda: app.script(
        "const i = document.querySelector('[data-testid=\"viewer-image\"]');"
        "return i && i.complete && i.naturalWidth === 640;"), 60))
    app.screenshot(SHOTS / "viewer-photo.png")
    app.keys("\ue014")
    t.step("the right arrow moves to the clip, which plays", lambda: wait_until("the clip to play", lambda: app.script(
        "const v = document.querySelector('[data-testid=\"viewer-video\"]');"
        "return v && !v.error && v.videoWidth === 160 && (v.currentTime > 0 || v.readyState >= 2);"), 60))
    app.screenshot(SHOTS / "viewer-video.png")
    app.keys(" ")
    app.gone('[data-testid="viewer"]', 10)

    # The demo's download cancelled and cleared, so the quota shot shows that account's alone.
    app.click(app.wait('[data-testid="transfer-row"][data-name="sensor-log-2024.dat"] [data-testid="transfer-cancel"]'))
    t.step("the demo's download cancelled", lambda: wait_until("no running transfer", lambda: not app.find_all(
        '[data-testid="transfer-row"][data-state="active"]'), 30))
    app.invoke("transfers_clear_finished", {})

    # A real 509: signed out of the demo, signed in to the account whose quota runs out.
    app.click(app.wait('[data-testid="account-menu"]'))
    app.click(app.wait('[data-testid="logout"]'))
    app.wait('[data-testid="login-email"]', 30)
    if not app.find_all('[data-testid="login-api-url"]'):  # behind "Advanced"
        app.click(app.find_all("//button[normalize-space()='Advanced']", using="xpath")[0])
    # As a paste (typed keys lose shifted characters here, see above).
    for field, value in [("login-api-url", os.environ["SERVER_URL"]), ("login-email", os.environ["QUOTA_EMAIL"]),
                         ("login-password", os.environ["QUOTA_PASSWORD"])]:
        app.script("const el = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);"
                   "el.value = arguments[1]; el.dispatchEvent(new Event('input', {bubbles: true}));", field, value)
    app.click(app.wait('[data-testid="login-submit"]'))
    video = t.step("signed in to the quota account", lambda: app.wait(
        '[data-testid="file-row"][data-name="holiday-video.mp4"]', 60))
    app.right_click(video)
    app.click(app.wait('[data-testid="menu-download"]'))
    t.step("the quota runs out: the banner", lambda: app.wait('[data-testid="quota-banner"]', 120))
    if not app.find_all('[data-testid="transfers-panel"].open'):
        app.click(app.wait('[data-testid="transfers-panel"] button[aria-expanded]'))
    t.step("the transfer row waits for the quota", lambda: wait_until("a waiting row", lambda: app.find_all(
        '[data-testid="transfer-row"][data-name="holiday-video.mp4"][data-state="waiting"]'), 30))
    app.screenshot(SHOTS / "quota.png")

    # The window closed while the download waits: the app stays, and says so.
    settings = app.invoke("settings_get")["ok"]
    settings["closeAction"] = "background-while-transferring"
    t.check("the close action is set", "ok" in app.invoke("settings_set", {"settings": settings}))
    t.check("the window is found", shown_windows(), "no shown window named Tuatara")
    t.step("closed: the window goes", lambda: close_until("the window to go", lambda: not shown_windows()))
    # dunst draws the notification in a window of its own (the screen's top right).
    t.step("the background notification is drawn", lambda: wait_until("dunst's window", lambda: subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--classname", "dunst"], capture_output=True).stdout.strip(), 15))
    subprocess.run(["import", "-window", "root", str(SHOTS / "background.png")], check=True)
except Exception:
    app.screenshot(SHOTS / "failure.png")  # what the window showed when a step failed
    raise
finally:
    app.close()
    # The app may be running in the background still (its window closed): it goes too.
    left = subprocess.run(["pgrep", "-P", os.environ["WD_PID"], "-x", "tuatara"], capture_output=True, text=True)
    for pid in left.stdout.split():
        try:
            os.kill(int(pid), 15)
        except ProcessLookupError:  # it ended by itself since pgrep saw it
            pass
t.finish()
