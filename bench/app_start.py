"""The desktop app's start on a large account (issue 17), run by bench/app-start.sh.

Signs in once with "keep me signed in" (a cold start: the tree fetched, the node cache
written), then launches the app again and again, each time timing, from the launch (the
WebDriver session that starts the binary): the window's first element, and the drive shown (the
row of `/bulk` in the file list). Warm: with the cache. Without the cache: its file deleted
before the launch (the tree fetched and the cache written again, as before the cache plus the
write). Prints a Markdown table and writes target/bench/app-start.md."""
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(os.environ["ROOT"]) / "tests" / "e2e"))
from wd import App, call  # noqa: E402

APP, URL, ROOT = os.environ["APP"], os.environ["SERVER_URL"], pathlib.Path(os.environ["ROOT"])
EMAIL, PASSWORD = os.environ["BENCH_EMAIL"], os.environ["BENCH_PASSWORD"]
DATA = pathlib.Path(os.environ["TUATARA_DATA_DIR"])
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ROW = '[data-testid="file-row"][data-name="bulk"]'


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# Waits in the page (every 5 ms) rather than by WebDriver round trips every 200 ms.
WAIT_JS = ("const [css, done] = arguments; const t0 = Date.now();"
           "(function poll() { if (document.querySelector(css)) done(true);"
           " else if (Date.now() - t0 > 280000) done(false); else setTimeout(poll, 5); })();")


def wait_in_page(app, css):
    if not call("POST", f"{app.s}/execute/async", {"script": WAIT_JS, "args": [css]}):
        raise SystemExit(f"app-start: {css} never showed")


def launch_and_time():
    """(seconds to the first element, seconds to the drive shown)."""
    start = time.perf_counter()
    app = App(APP)
    try:
        app.wait("body *", 120)
        shell = time.perf_counter() - start
        wait_in_page(app, ROW)
        drive = time.perf_counter() - start
    finally:
        app.close()
    time.sleep(1)
    return shell, drive


def drop_cache():
    for f in (DATA / "node-cache").glob("*"):
        f.unlink()


# The first sign-in (cold): the password typed, the session kept.
start = time.perf_counter()
app = App(APP)
try:
    app.fill_login(URL, EMAIL, PASSWORD, timeout=120)
    typed = time.perf_counter()
    app.click(app.wait('[data-testid="login-submit"]'))
    app.wait(ROW, 300)
    cold = time.perf_counter() - typed
finally:
    app.close()
time.sleep(1)
log(f"cold sign-in (submit to the drive shown): {cold:.2f} s")

if os.environ.get("BENCH_PERF"):
    # Profiling: one warm start under `perf record -a` (every process: the app, WebKit, the
    # server), written to BENCH_PERF.
    import subprocess
    perf = subprocess.Popen(["perf", "record", "-a", "-g", "-o", os.environ["BENCH_PERF"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    log(f"profiled warm start: {launch_and_time()}")
    perf.send_signal(2)
    perf.wait()

rows = {"warm (from the cache)": [], "no cache (deleted before the launch)": []}
for i in range(RUNS):
    rows["warm (from the cache)"].append(launch_and_time())
    log(f"warm run {i + 1}: window {rows['warm (from the cache)'][-1][0]:.2f} s, drive {rows['warm (from the cache)'][-1][1]:.2f} s")
    drop_cache()
    rows["no cache (deleted before the launch)"].append(launch_and_time())
    log(f"no-cache run {i + 1}: drive {rows['no cache (deleted before the launch)'][-1][1]:.2f} s")

nodes = int(os.environ.get("BENCH_CACHE_NODES", "1000000"))
lines = [f"The app's start on an account of {nodes:,} nodes (release build, Xvfb, {RUNS} runs each; "
         "from the launch of the binary):", "",
         "| start | window's first element | drive shown (median) | min-max |", "|---|---|---|---|"]
for name, samples in rows.items():
    shells = [s[0] for s in samples]
    drives = [s[1] for s in samples]
    lines.append(f"| {name} | {statistics.median(shells):.2f} s | {statistics.median(drives):.2f} s | "
                 f"{min(drives):.2f}-{max(drives):.2f} s |")
lines += ["", f"First sign-in with the password (cold: fetch and cache written), from the click to the drive "
          f"shown: {cold:.2f} s."]
report = "\n".join(lines) + "\n"
out = ROOT / "target" / "bench"
out.mkdir(parents=True, exist_ok=True)
(out / "app-start.md").write_text(report)
print(report)
