"""A minimal W3C WebDriver client over Python's standard library, for the real Tauri window
through WebKitWebDriver (which `scripts/e2e.sh` starts under Xvfb), plus a tally of checks."""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ.get("WD", "http://127.0.0.1:4445")


class WebDriverError(Exception):
    pass


def call(method, path, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, method=method, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())["value"]
    except urllib.error.HTTPError as e:
        raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:400]!r}") from None


class App:
    """One launch of the app binary as a WebDriver session."""

    def __init__(self, binary, args=()):
        caps = {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": {"binary": binary, "args": list(args)}}}}
        for _ in range(40):
            try:
                self.sid = call("POST", "/session", caps)["sessionId"]
                break
            except (ConnectionError, OSError):
                time.sleep(0.5)
        else:
            raise WebDriverError("could not create a WebDriver session")
        self.s = f"/session/{self.sid}"

    def fill_login(self, url, email, password, remember=True, timeout=60):
        """Fills the login form (the API URL behind "Advanced"), not submitted."""
        field = self.wait('[data-testid="login-email"]', timeout)
        if not self.find_all('[data-testid="login-api-url"]'):  # behind "Advanced"
            self.click(self.find_all("//button[normalize-space()='Advanced']", using="xpath")[0])
        self.type(self.wait('[data-testid="login-api-url"]'), url)
        self.type(field, email)
        self.type(self.wait('[data-testid="login-password"]'), password)
        box = self.wait('[data-testid="login-remember"]')
        if self.selected(box) != remember:
            self.click(box)

    def close(self):
        try:
            call("DELETE", self.s, timeout=20)
        except Exception as e:  # the app may be gone already (killed on purpose)
            print(f"  (session close: {e})", file=sys.stderr)

    def find_all(self, css, using="css selector"):
        return [next(iter(v.values())) for v in call("POST", f"{self.s}/elements", {"using": using, "value": css})]

    def wait(self, css, timeout=30, what=None):
        """The first element matching `css`, waiting for it to appear."""
        until = time.time() + timeout
        while True:
            found = self.find_all(css)
            if found:
                return found[0]
            if time.time() > until:
                raise TimeoutError(f"no {what or css} after {timeout}s")
            time.sleep(0.2)

    def gone(self, css, timeout=30):
        until = time.time() + timeout
        while self.find_all(css):
            if time.time() > until:
                raise TimeoutError(f"{css} still there after {timeout}s")
            time.sleep(0.2)

    def click(self, el):
        call("POST", f"{self.s}/element/{el}/click", {})

    def type(self, el, text, clear=True):
        if clear:
            call("POST", f"{self.s}/element/{el}/clear", {})
        call("POST", f"{self.s}/element/{el}/value", {"text": text})

    def text(self, el):
        return call("GET", f"{self.s}/element/{el}/text")

    def attr(self, el, name):
        return call("GET", f"{self.s}/element/{el}/attribute/{name}")

    def selected(self, el):
        return call("GET", f"{self.s}/element/{el}/selected")

    def _pointer(self, el, actions):
        # WebKitWebDriver refuses an element as the origin: move to the element's centre in
        # viewport coordinates instead.
        r = self.rect(el)
        x, y = int(r["x"] + r["width"] / 2), int(r["y"] + r["height"] / 2)
        seq = [{"type": "pointerMove", "origin": "viewport", "x": x, "y": y}] + actions
        call("POST", f"{self.s}/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": seq}]})
        call("DELETE", f"{self.s}/actions")

    def double_click(self, el):
        down_up = [{"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]
        self._pointer(el, down_up + down_up)

    def right_click(self, el):
        self._pointer(el, [{"type": "pointerDown", "button": 2}, {"type": "pointerUp", "button": 2}])

    def keys(self, *keys):
        """Real key presses to the focused element (WebDriver key actions; "\ue012" is
        ArrowLeft, "\ue014" ArrowRight)."""
        seq = [{"type": t, "value": k} for k in keys for t in ("keyDown", "keyUp")]
        call("POST", f"{self.s}/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": seq}]})
        call("DELETE", f"{self.s}/actions")

    def script(self, js, *args):
        return call("POST", f"{self.s}/execute/sync", {"script": js, "args": list(args)})

    def invoke(self, cmd, args=None):
        """Calls a command as the UI would: {"ok": value} or {"err": rejection}."""
        js = ("const [cmd, args, done] = arguments;"
              "window.__TAURI_INTERNALS__.invoke(cmd, args).then(v => done({ok: v}), e => done({err: e}));")
        return call("POST", f"{self.s}/execute/async", {"script": js, "args": [cmd, args or {}]})

    def rect(self, el):
        return call("GET", f"{self.s}/element/{el}/rect")

    def screenshot(self, path):
        # WebKitGTK under Xvfb may hand back a stale frame right after a change: two frames first.
        call("POST", f"{self.s}/execute/async", {"script": "const d=arguments[0]; requestAnimationFrame(()=>requestAnimationFrame(()=>d(1)));", "args": []})
        with open(path, "wb") as f:
            f.write(base64.b64decode(call("GET", f"{self.s}/screenshot")))


def wait_until(what, fn, timeout=60, every=0.3):
    until = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > until:
            raise TimeoutError(f"timed out: {what}")
        time.sleep(every)


def shown_windows(name="^Tuatara$"):
    """The X ids of the mapped (shown) top-level windows of that name."""
    return subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], capture_output=True,
                          text=True).stdout.split()


def close_until(what, done, timeout=15, every=5):
    """Closes the app's shown windows as a window manager's close button does
    (close_window.py: WM_DELETE_WINDOW) and waits until `done()` holds. The close is sent again
    every `every` seconds while it does not: once in CI a first close never reached the app
    (it logged no close request), and a user would click again; an app that ignores closes
    still fails after `timeout`."""
    until = time.time() + timeout
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "close_window.py")
    while True:
        subprocess.run(["/usr/bin/python3", script, *shown_windows()], check=True)
        try:
            return wait_until(what, done, min(every, max(until - time.time(), 0.1)))
        except TimeoutError:
            if time.time() > until:
                raise


class Tally:
    """Counts checks; each check is a named step that passes or fails (and stops the run when a
    later step cannot go on without it)."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")
        return ok

    def step(self, name, fn):
        try:
            v = fn()
        except Exception as e:
            self.check(name, False, f"{type(e).__name__}: {e}")
            raise
        self.check(name, True)
        return v

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout
