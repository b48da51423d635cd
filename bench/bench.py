#!/usr/bin/env python3
"""`make bench`: Tuatara beside curl, rclone (go-mega) and megajs, on the same server and files.

Starts the release `mega-testserver` with its data on disk and measures, in one run:
download and upload of one large file (curl moving the raw ciphertext is the transport's
limit), streaming it (`tuatara-cli serve http` read by curl: the whole file, and the first byte
after a seek to 10, 50 and 90 %, beside curl on the raw ciphertext), upload then download of many small files, log in and list a large account, and log in
through hashcash at easiness 192. Each workload runs several times; the table gives the median,
min-max, peak RSS of the client process, and each client's time relative to Tuatara's. Every
downloaded file is compared with the original (a fast wrong answer does not count).

Knobs (environment): BENCH_SIZE_MB (1024), BENCH_RUNS (3), BENCH_PEER_RUNS (1), BENCH_SMALL_FILES (2000),
BENCH_NODES (100000), BENCH_BIG_NODES (1000000; Tuatara only), BENCH_RSS_MB (4096: the
download whose memory is sampled), BENCH_CACHE_NODES (1000000: the node cache's account),
BENCH_SKIP (comma list of workloads to skip: big-down, big-up, small, list, hashcash, rss,
stream, cache), BENCH_CLIENTS (comma list of clients to run, by the
first word of their name: tuatara-cli, curl, rclone, megajs; default all).
Output: Markdown on stdout and in target/bench/report.md.
"""

import datetime
import hashlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
SERVER = os.path.join(TARGET, "release", "mega-testserver")
CLI = os.path.join(TARGET, "release", "tuatara-cli")
PEERS = os.environ.get("TUATARA_PEERS") or os.path.expanduser("~/.cache/tuatara/peers")
RCLONE = os.path.join(PEERS, "venv", "bin", "rclone")
MEGAJS_DIR = os.path.join(PEERS, "megajs")

SIZE = int(os.environ.get("BENCH_SIZE_MB", "1024")) * 1024 * 1024
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SMALL = int(os.environ.get("BENCH_SMALL_FILES", "2000"))
NODES = int(os.environ.get("BENCH_NODES", "100000"))
BIG_NODES = int(os.environ.get("BENCH_BIG_NODES", "1000000"))
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
CLIENTS = set(filter(None, os.environ.get("BENCH_CLIENTS", "").split(",")))
# megajs moves about 8 MB/s here and rclone's small files take minutes: one run each keeps the
# whole bench near 15 minutes on a 2-core machine.
PEER_RUNS = int(os.environ.get("BENCH_PEER_RUNS", "1"))

RSS_SIZE = int(os.environ.get("BENCH_RSS_MB", "4096")) * 1024 * 1024
CACHE_NODES = int(os.environ.get("BENCH_CACHE_NODES", "1000000"))

EMAIL, PASSWORD = "bench@example.com", "bench password"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def run(cmd, env=None, stdin=None, timeout=1800):
    """Runs a command; returns (seconds, peak RSS in MiB, stdout). Raises on failure."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, env=env)
    if stdin:
        p.stdin.write(stdin)
        p.stdin.close()
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            raise Failed(f"{cmd[0]} timed out after {timeout} s")
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode(errors="replace")
    if p.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd[:3]))}... exited {p.returncode}: {err.read().decode(errors='replace')[-800:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def verify(path, digest, what):
    if sha256(path) != digest:
        raise Failed(f"{what}: the downloaded bytes differ from the original")


class Server:
    def __init__(self, data, *args):
        self.p = subprocess.Popen([SERVER, "--data", data, "--user", f"{EMAIL}:{PASSWORD}", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.p.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise Failed("mega-testserver did not start: " + self.p.stderr.read())
        self.said = []

    def stderr_lines(self, count):
        while len(self.said) < count:
            self.said.append(self.p.stderr.readline().strip())
        return self.said

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=60)


class Clients:
    """How each client is driven against one server."""

    def __init__(self, server, tmp):
        self.server = server
        self.tmp = tmp
        self.n = 0
        self.obscured = run([RCLONE, "obscure", PASSWORD])[2].strip()
        shutil.copy(os.path.join(ROOT, "bench", "megajs-bench.mjs"), os.path.join(MEGAJS_DIR, "tuatara-bench.mjs"))
        open(os.path.join(tmp, "rclone.conf"), "w").close()

    def fresh(self, name):
        self.n += 1
        d = os.path.join(self.tmp, f"{name}-{self.n}")
        os.makedirs(d)
        return d

    def tuatara_env(self, home=None):
        home = home or os.path.join(self.tmp, "tuatara-home")
        env = dict(os.environ, TUATARA_API_URL=self.server.url, XDG_CONFIG_HOME=os.path.join(home, "config"),
                   XDG_DATA_HOME=os.path.join(home, "data"))
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def tuatara(self, *args, home=None):
        return run([CLI, "--quiet", *args], env=self.tuatara_env(home))

    def tuatara_login(self, home=None):
        return run([CLI, "--quiet", "login", EMAIL, "--password-stdin"], env=self.tuatara_env(home),
                   stdin=PASSWORD.encode())

    def rclone(self, *args):
        remote = f":mega,user={EMAIL},pass={self.obscured}:"
        args = [a.replace("REMOTE:", remote) for a in args]
        env = dict(os.environ, X_MEGA_API_URL=self.server.url.rstrip("/"))
        return run([RCLONE, *args, "--config", os.path.join(self.tmp, "rclone.conf")], env=env)

    def megajs(self, *args):
        return run(["node", os.path.join(MEGAJS_DIR, "tuatara-bench.mjs"), self.server.url, EMAIL, PASSWORD, *args])


class Table:
    def __init__(self):
        self.rows = []

    def add(self, workload, client, samples, note=""):
        self.rows.append((workload, client, samples, note))

    def markdown(self):
        lines = ["| workload | client | median | min-max | peak RSS | vs Tuatara |", "|---|---|---|---|---|---|"]
        tuatara = {w: statistics.median(s[0] for s in smp) for (w, c, smp, _) in self.rows if c == "tuatara-cli" and smp}
        for workload, client, samples, note in self.rows:
            if not samples:
                lines.append(f"| {workload} | {client} | - | - | - | {note} |")
                continue
            secs = [s[0] for s in samples]
            rss = max(s[1] for s in samples)
            med = statistics.median(secs)
            ratio = f"{med / tuatara[workload]:.2f}x" if workload in tuatara else "-"
            extra = f" ({note})" if note else ""
            if max(secs) < 0.1:  # a first byte: milliseconds
                took = f"{med * 1000:.1f} ms | {min(secs) * 1000:.1f}-{max(secs) * 1000:.1f} ms"
            else:
                took = f"{med:.2f} s | {min(secs):.2f}-{max(secs):.2f} s"
            lines.append(f"| {workload} | {client} | {took} | {rss:.0f} MiB | {ratio}{extra} |")
        return "\n".join(lines)


def measure(table, workload, client, fn, runs=RUNS):
    if CLIENTS and client.split()[0] not in CLIENTS:
        return
    samples = []
    try:
        for i in range(runs):
            # Every run starts with the page cache's dirty bytes on disk (untimed): otherwise
            # whoever runs after a big write waits for its writeback, whatever its own speed.
            os.sync()
            samples.append(fn(i))
            log(f"  {workload} / {client} run {i + 1}: {samples[-1][0]:.2f} s")
        table.add(workload, client, samples)
    except Failed as e:
        log(f"  {workload} / {client}: {e}")
        table.add(workload, client, samples, f"failed: {str(e).splitlines()[0][:80]}")


def measure_interleaved(table, workload, entries):
    """Like `measure` for several clients, taking turns run by run (client A run 1, client B run
    1, ..., A run 2, ...): a server's disk and page cache fill as the runs go, and whoever ran
    last would otherwise pay for everyone's writes. `entries`: (client, fn, runs)."""
    entries = [e for e in entries if not CLIENTS or e[0].split()[0] in CLIENTS]
    samples = {client: [] for client, _, _ in entries}
    failed = {}
    for i in range(max((runs for _, _, runs in entries), default=0)):
        for client, fn, runs in entries:
            if i >= runs or client in failed:
                continue
            try:
                os.sync()
                samples[client].append(fn(i))
                log(f"  {workload} / {client} run {i + 1}: {samples[client][-1][0]:.3f} s")
            except Failed as e:
                log(f"  {workload} / {client}: {e}")
                failed[client] = f"failed: {str(e).splitlines()[0][:80]}"
    for client, _, _ in entries:
        table.add(workload, client, samples[client], failed.get(client, ""))


def make_file(path, size):
    with open(path, "wb") as f:
        chunk = os.urandom(1 << 20)
        left = size
        while left:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n


def cs(url, body, sid=None):
    req = urllib.request.Request(url + "cs?id=" + str(random.randrange(1 << 30)), data=json.dumps(body).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def vm_rss_mib(pid):
    """The resident set of a live process, MiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_during_download(tmp):
    """Downloads one RSS_SIZE file with tuatara-cli, sampling its RSS every 100 ms beside the
    bytes written so far (the allocated blocks of NAME.part, which is sparse until filled).
    Returns the Markdown lines of the result."""
    src = os.path.join(tmp, "huge.bin")
    make_file(src, RSS_SIZE)
    digest = sha256(src)
    server = Server(os.path.join(tmp, "server-rss"), "--file", f"{EMAIL}:/huge.bin={src}")
    os.remove(src)  # the server keeps its own copy: one less file of this size on the disk
    label = f"download {RSS_SIZE // (1024 * 1024)} MiB"
    try:
        c = Clients(server, tmp)
        home = c.fresh("rss-home")
        c.tuatara_login(home)
        d = c.fresh("rss-down")
        out = os.path.join(d, "huge.bin")
        part = out + ".part"
        start = time.perf_counter()
        p = subprocess.Popen([CLI, "--quiet", "get", "/huge.bin", d], env=c.tuatara_env(home),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples = []  # (seconds, bytes written, RSS MiB)
        while p.poll() is None:
            rss = vm_rss_mib(p.pid)
            written = 0
            for f in (part, out):
                try:
                    written = min(os.stat(f).st_blocks * 512, RSS_SIZE)
                    break
                except OSError:
                    pass
            if rss is not None:
                samples.append((time.perf_counter() - start, written, rss))
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        if p.returncode != 0:
            raise Failed(f"tuatara-cli get exited {p.returncode}: {p.stderr.read().decode(errors='replace')[-400:]}")
        verify(out, digest, "tuatara-cli")
        shutil.rmtree(d)
    finally:
        server.stop()
        shutil.rmtree(os.path.join(tmp, "server-rss"), ignore_errors=True)
    if not samples:
        raise Failed("no RSS samples")
    peak = max(s[2] for s in samples)
    at = []
    for frac in (0.25, 0.5, 0.75, 1.0):
        hit = next((s for s in samples if s[1] >= frac * RSS_SIZE), samples[-1])
        at.append(f"{hit[2]:.0f}")
    lines = [
        f"{label} with tuatara-cli: {seconds:.1f} s, {len(samples)} RSS samples (every 100 ms, /proc/PID/status VmRSS).",
        "",
        "| bytes written | 25 % | 50 % | 75 % | 100 % | peak |",
        "|---|---|---|---|---|---|",
        f"| RSS (MiB) | {' | '.join(at)} | {peak:.0f} |",
    ]
    log(f"  {label} / tuatara-cli: {seconds:.1f} s, RSS peak {peak:.0f} MiB, at 25/50/75/100 %: {'/'.join(at)} MiB")
    return lines


def stream_bench(c, server, table, label, digest):
    """Streaming (issue 18): `tuatara-cli serve http /big.bin` read by curl beside curl on the
    storage URL's raw ciphertext: the whole file to /dev/null (one more untimed read is checked
    by SHA-256), and one byte at 10, 50 and 90 % of the file, each run at a fresh position 8 MiB
    further (no cached or read-ahead piece answers it): the time from a seek to its first byte."""
    link = c.tuatara("link", "/big.bin")[2].strip()
    ph = link.split("/file/")[1].split("#")[0]
    p = subprocess.Popen([CLI, "--quiet", "serve", "http", "/big.bin"], env=c.tuatara_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = p.stdout.readline().strip()
        if not url.startswith("http"):
            raise Failed("serve http printed no URL")

        def storage():
            return cs(server.url, [{"a": "g", "g": 1, "p": ph}])[0]["g"]

        def with_server_rss(r):
            return (r[0], max(r[1], vm_rss_mib(p.pid) or 0), r[2])
        got = run(["sh", "-c", 'curl -sS --fail "$1" | sha256sum', "sh", url])[2].split()[0]
        if got != digest:
            raise Failed("the stream's bytes differ from the original")
        measure_interleaved(table, f"stream {label} sequentially", [
            ("curl (raw ciphertext)", lambda i: run(["curl", "-sS", "--fail", "-o", "/dev/null", storage()]), RUNS),
            ("tuatara-cli", lambda i: with_server_rss(run(["curl", "-sS", "--fail", "-o", "/dev/null", url])), RUNS),
        ])
        seeks = max(RUNS, 5)
        for pct in (10, 50, 90):
            def at(i):
                return min(SIZE * pct // 100 + i * (8 << 20), SIZE - 1)

            def first_byte(target, i, path_range):
                n = at(i)
                cmd = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total}"]
                cmd += [f"{target}/{n}-{n}"] if path_range else ["-r", f"{n}-{n}", target]
                r = run(cmd)
                return (float(r[2]), r[1], r[2])
            measure_interleaved(table, f"first byte after a seek to {pct} % of {label}", [
                ("curl (raw ciphertext)", lambda i: first_byte(storage(), i, True), seeks),
                ("tuatara-cli", lambda i: with_server_rss(first_byte(url, i, False)), seeks),
            ])
    finally:
        p.terminate()
        p.wait(timeout=60)


def node_cache_bench(tmp):
    """Issue 17: the node cache, on the real processes (`tuatara-cli ls` of one folder of an
    account of CACHE_NODES nodes): fetching the tree every time (`--no-cache`), a cold start
    (fetch, cache written), a warm start, a warm start after 10,000 changes made by another
    client, and a command that reads the whole tree (`find`) both ways. Each with its wall time
    and peak RSS; then the cache's size on disk. Returns Markdown lines."""
    folders = max(11 * RUNS, CACHE_NODES // 1001)
    server = Server(os.path.join(tmp, "server-cache"), "--bulk", f"{EMAIL}:{folders}:1000")
    rows = []
    try:
        c = Clients(server, tmp)
        home, other = c.fresh("cache-home"), c.fresh("cache-other")
        c.tuatara_login(home)
        c.tuatara_login(other)
        cache_dir = os.path.join(home, "data", "tuatara", "node-cache")
        folder = "/bulk/dir-00000"

        def listed(r):
            if len(r[2].splitlines()) != 1000:
                raise Failed(f"listed {len(r[2].splitlines())} entries, not 1000")
            return r

        def cold(i):
            shutil.rmtree(cache_dir, ignore_errors=True)
            return listed(c.tuatara("ls", folder, home=home))

        def after_changes(i):
            # 10,000 files of 10 folders removed by another client (untimed), then the start.
            paths = []
            for d in range(1 + 10 * i, 11 + 10 * i):
                names = c.tuatara("--no-cache", "ls", f"/bulk/dir-{d:05d}", home=other)[2].split()
                paths += [f"/bulk/dir-{d:05d}/{n}" for n in names]
            c.tuatara("--no-cache", "rm", "--permanent", *paths, home=other)
            # mega-testserver saves its whole state (seconds of CPU at this size) half a second
            # after a change: not a cost of the client's start, so let it end first.
            time.sleep(4)
            return listed(c.tuatara("ls", folder, home=home))

        def found(r):
            if r[2].strip() != "/bulk/dir-00000/file-0000007.bin":
                raise Failed(f"find printed {r[2][:80]!r}")
            return r

        scenarios = [
            ("fetch every time (`--no-cache`, as before the cache)",
             lambda i: listed(c.tuatara("--no-cache", "ls", folder, home=home))),
            ("cold start (fetch, cache written)", cold),
            ("warm start (pages of the path, caught up)", lambda i: listed(c.tuatara("ls", folder, home=home))),
            ("warm start after 10,000 remote changes", after_changes),
            ("whole tree, fetched (`--no-cache find`)",
             lambda i: found(c.tuatara("--no-cache", "find", "file-0000007.bin", home=home))),
            ("whole tree, from the cache (`find`)", lambda i: found(c.tuatara("find", "file-0000007.bin", home=home))),
        ]
        samples = {}
        for name, fn in scenarios:
            samples[name] = []
            try:
                for i in range(RUNS):
                    os.sync()
                    samples[name].append(fn(i))
                    log(f"  node cache / {name} run {i + 1}: {samples[name][-1][0]:.3f} s")
            except Failed as e:
                log(f"  node cache / {name}: {e}")
                rows.append(f"| {name} | failed: {str(e).splitlines()[0][:80]} | | | |")
                samples[name] = []
        base = statistics.median(s[0] for s in samples[scenarios[0][0]]) if samples[scenarios[0][0]] else None
        for name, _ in scenarios:
            smp = samples[name]
            if not smp:
                continue
            secs = [s[0] for s in smp]
            med = statistics.median(secs)
            ratio = f"{base / med:.1f}x" if base else "-"
            rows.append(f"| {name} | {med:.3f} s | {min(secs):.3f}-{max(secs):.3f} s | "
                        f"{max(s[1] for s in smp):.0f} MiB | {ratio} |")
        size = sum(os.path.getsize(os.path.join(cache_dir, f)) for f in os.listdir(cache_dir))
    finally:
        server.stop()
    nodes = folders * 1001 + 1
    return [f"Node cache: `tuatara-cli ls {folder}` on an account of {nodes:,} nodes ({RUNS} runs each; "
            f"process wall time, from start to exit):", "",
            "| start | median | min-max | peak RSS | faster than fetching every time |",
            "|---|---|---|---|---|", *rows, "",
            f"The cache on disk: {size / (1 << 20):.0f} MiB for {nodes:,} nodes."]


def main():
    for tool in (SERVER, CLI, RCLONE):
        if not os.path.exists(tool):
            sys.exit(f"bench: {tool} is missing (make bench builds the release binaries and installs the peers)")
    table = Table()
    tmp = tempfile.mkdtemp(prefix="tuatara-bench-")
    big = os.path.join(tmp, "big.bin")
    label = f"{SIZE // (1024 * 1024)} MiB"
    # Every client downloads the big file RUNS times: the account's transfer quota (the
    # server's default, as on a free account) is raised to fit, or the last runs get 509.
    # Streaming reads it 2 * RUNS + 1 times more (and a few seeks).
    quota = (4 * RUNS + 3 * max(RUNS, PEER_RUNS) + 6) * SIZE
    server = Server(os.path.join(tmp, "server"), "--upload-urls", f"{EMAIL}:{SIZE}:{RUNS}",
                    "--transfer-quota", f"{EMAIL}:{quota}")
    try:
        c = Clients(server, tmp)
        c.tuatara_login()
        log(f"bench: server {server.url}, data in {tmp}")
        if not {"big-down", "big-up"} <= SKIP:
            make_file(big, SIZE)
            digest = sha256(big)
            c.tuatara("put", big, "/")
        if "big-down" not in SKIP:
            w = f"download {label}"
            link = c.tuatara("link", "/big.bin")[2].strip()
            ph = link.split("/file/")[1].split("#")[0]

            def curl_down(i):
                url = cs(server.url, [{"a": "g", "g": 1, "p": ph}])[0]["g"]
                out = os.path.join(c.fresh("curl"), "big.bin")
                r = run(["curl", "-sS", "--fail", "-o", out, url])
                os.remove(out)  # ciphertext: nothing to compare with but its size
                return r
            def curl_sync_down(i):
                url = cs(server.url, [{"a": "g", "g": 1, "p": ph}])[0]["g"]
                out = os.path.join(c.fresh("curls"), "big.bin")
                r = run(["sh", "-c", 'curl -sS --fail -o "$1" "$2" && sync "$1"', "sh", out, url])
                os.remove(out)
                return r

            def verified_download(who, fetch):
                """A run that downloads into a fresh folder with `fetch(path)` and checks the bytes."""
                def one(i):
                    d = c.fresh(who)
                    out = os.path.join(d, "big.bin")
                    r = fetch(d, out)
                    verify(out, digest, who)
                    shutil.rmtree(d)
                    return r
                return one
            # "curl + sync": Tuatara fsyncs a download before it gets its name (crash safety);
            # this is curl held to the same.
            measure_interleaved(table, w, [
                ("curl (raw ciphertext)", curl_down, RUNS),
                ("curl + sync (as durable)", curl_sync_down, RUNS),
                ("tuatara-cli", verified_download("tuatara-cli", lambda d, out: c.tuatara("get", "/big.bin", d)), RUNS),
                ("rclone", verified_download("rclone", lambda d, out: c.rclone("copyto", "REMOTE:big.bin", out)), RUNS),
                ("megajs", verified_download("megajs", lambda d, out: c.megajs("download", "big.bin", out)), PEER_RUNS),
            ])
        if "stream" not in SKIP and not {"big-down", "big-up"} <= SKIP:
            try:
                stream_bench(c, server, table, label, digest)
            except Failed as e:
                log(f"  stream: {e}")
                table.add(f"stream {label} sequentially", "tuatara-cli", [], f"failed: {str(e).splitlines()[0][:80]}")
        if "big-up" not in SKIP:
            w = f"upload {label}"
            urls = [l.split("upload URL: ")[1] for l in server.stderr_lines(RUNS) if "upload URL: " in l]

            def named(prefix, i):
                p = os.path.join(c.fresh(prefix), f"{prefix}-{i}.bin")
                os.link(big, p)
                return p
            measure_interleaved(table, w, [
                ("curl (raw ciphertext)", lambda i: run(["curl", "-sS", "--fail", "-o", "/dev/null",
                                                         "-X", "POST", "-T", big, f"{urls[i]}/0"]), RUNS),
                ("tuatara-cli", lambda i: c.tuatara("put", named("t-up", i), "/"), RUNS),
                ("rclone", lambda i: c.rclone("copyto", big, f"REMOTE:r-up-{i}.bin"), RUNS),
                ("megajs", lambda i: c.megajs("upload", big, f"m-up-{i}.bin"), PEER_RUNS),
            ])
        if "small" not in SKIP:
            small = os.path.join(tmp, "small")
            os.makedirs(small)
            rng = random.Random(7)
            digests = {}
            for i in range(SMALL):
                p = os.path.join(small, f"f{i:05}.bin")
                with open(p, "wb") as f:
                    f.write(os.urandom(rng.randint(1024, 64 * 1024)))
                digests[f"f{i:05}.bin"] = sha256(p)

            def check_dir(d, who):
                got = sorted(os.listdir(d))
                if got != sorted(digests):
                    raise Failed(f"{who}: {len(got)} files instead of {len(digests)}")
                for name in got:
                    verify(os.path.join(d, name), digests[name], who)
            w_up, w_down = f"upload {SMALL} files of 1-64 KiB", f"download {SMALL} files of 1-64 KiB"

            def link_dir(prefix, i):
                p = os.path.join(c.fresh(prefix), f"{prefix}-{i}")
                os.symlink(small, p)
                return p
            measure(table, w_up, "tuatara-cli", lambda i: c.tuatara("put", link_dir("small-t", i), "/"))

            def t_small_down(i):
                d = c.fresh("ts-down")
                r = c.tuatara("get", f"/small-t-{i}", d)
                check_dir(os.path.join(d, f"small-t-{i}"), "tuatara-cli")
                return r
            measure(table, w_down, "tuatara-cli", t_small_down)
            measure(table, w_up, "rclone", lambda i: c.rclone("copy", small, f"REMOTE:small-r-{i}"), runs=PEER_RUNS)

            def r_small_down(i):
                d = c.fresh("rs-down")
                r = c.rclone("copy", f"REMOTE:small-r-{i}", d)
                check_dir(d, "rclone")
                return r
            measure(table, w_down, "rclone", r_small_down, runs=PEER_RUNS)
            measure(table, w_up, "megajs", lambda i: c.megajs("upload-dir", small, f"small-m-{i}"), runs=PEER_RUNS)

            def m_small_down(i):
                d = c.fresh("ms-down")
                r = c.megajs("download-dir", f"small-m-{i}", d)
                check_dir(d, "megajs")
                return r
            measure(table, w_down, "megajs", m_small_down, runs=PEER_RUNS)
    finally:
        server.stop()
    if "list" not in SKIP:
        folders = max(1, NODES // 1000)
        server = Server(os.path.join(tmp, "server-list"), "--bulk", f"{EMAIL}:{folders}:{NODES // folders}")
        try:
            c = Clients(server, tmp)
            w = f"log in + list {folders * (NODES // folders) + folders:,} nodes"

            def t_list(i):
                home = c.fresh("t-home")
                a = c.tuatara_login(home)
                b = c.tuatara("ls", "-R", "/bulk", home=home)
                if len(b[2].splitlines()) < NODES:
                    raise Failed(f"tuatara-cli listed {len(b[2].splitlines())} entries")
                return (a[0] + b[0], max(a[1], b[1]))
            measure(table, w, "tuatara-cli", t_list)

            def r_list(i):
                r = c.rclone("lsf", "-R", "REMOTE:bulk")
                if len(r[2].splitlines()) < NODES:
                    raise Failed(f"rclone listed {len(r[2].splitlines())} entries")
                return r
            measure(table, w, "rclone", r_list)

            def m_list(i):
                r = c.megajs("count")
                if int(r[2].strip()) < NODES:
                    raise Failed(f"megajs saw {r[2].strip()} nodes")
                return r
            measure(table, w, "megajs", m_list)
        finally:
            server.stop()
        if BIG_NODES:
            folders = max(1, BIG_NODES // 1000)
            server = Server(os.path.join(tmp, "server-big"), "--bulk", f"{EMAIL}:{folders}:{BIG_NODES // folders}")
            try:
                c = Clients(server, tmp)
                w = f"log in + list {folders * (BIG_NODES // folders) + folders:,} nodes"

                def t_big(i):
                    home = c.fresh("tb-home")
                    a = c.tuatara_login(home)
                    b = c.tuatara("ls", "-R", "/bulk", home=home)
                    return (a[0] + b[0], max(a[1], b[1]))
                measure(table, w, "tuatara-cli", t_big, runs=max(1, RUNS - 1))
            finally:
                server.stop()
    cache_lines = []
    if "cache" not in SKIP:
        try:
            cache_lines = node_cache_bench(tmp)
        except Failed as e:
            log(f"  node cache: {e}")
            cache_lines = [f"Node cache: failed: {e}"]
    rss_lines = []
    if "rss" not in SKIP:
        try:
            rss_lines = rss_during_download(tmp)
        except Failed as e:
            log(f"  rss: {e}")
            rss_lines = [f"RSS during a {RSS_SIZE // (1024 * 1024)} MiB download: failed: {e}"]
    if "hashcash" not in SKIP:
        server = Server(os.path.join(tmp, "server-hashcash"), "--hashcash", "192")
        try:
            c = Clients(server, tmp)
            w = "log in through hashcash (easiness 192)"
            measure(table, w, "tuatara-cli", lambda i: c.tuatara_login(c.fresh("th-home")))
            measure(table, w, "rclone", lambda i: c.rclone("lsd", "REMOTE:"))
            measure(table, w, "megajs", lambda i: c.megajs("count"))
        finally:
            server.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    head = (f"Measured {datetime.date.today()} on {os.cpu_count()} CPUs ({cpu}), {platform.system()} "
            f"{platform.release()}; {RUNS} runs each ({PEER_RUNS} for megajs and for rclone's small files). "
            f"Command: `make bench`.\n\n")
    report = head + (table.markdown() + "\n" if table.rows else "")
    if rss_lines:
        report += "\nMemory during one large download:\n\n" + "\n".join(rss_lines) + "\n"
    if cache_lines:
        report += "\n" + "\n".join(cache_lines) + "\n"
    os.makedirs(os.path.join(TARGET, "bench"), exist_ok=True)
    with open(os.path.join(TARGET, "bench", "report.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
