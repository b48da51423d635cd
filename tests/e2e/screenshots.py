"""Screenshots of the real app on the demo drive (run by scripts/screenshot.sh under Xvfb):
login, drive, transfers with a download running, the links dialog and the quota banner, as
PNGs in $SHOTS. Prints `N passed, N failed` like the other e2e scripts."""
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wd import App, Tally, wait_until  # noqa: E402

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

    # The banner as the engine's quota wait shows it (the event the app emits on a quota wait).
    app.invoke("plugin:event|emit", {"event": "quota://waiting", "payload": {"seconds": 1740}})
    t.step("the quota banner", lambda: app.wait('[data-testid="quota-banner"]', 10))
    app.screenshot(SHOTS / "quota.png")
except Exception:
    app.screenshot(SHOTS / "failure.png")  # what the window showed when a step failed
    raise
finally:
    app.close()
t.finish()
