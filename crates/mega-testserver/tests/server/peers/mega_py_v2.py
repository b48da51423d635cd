"""mega-py-v2 (PyPI `mega-py-v2`, a maintained fork of mega.py that solves hashcash) as an
interop peer.

Usage: python mega_py_v2.py API_URL EMAIL PASSWORD COMMAND [ARGS...]

API_URL is the server's gateway ending in `/`. The client builds
`https://g.api.mega.co.nz/cs` from parts; its HTTP client's `post` is wrapped to send that URL
to `API_URL + "cs"` instead (the only change made: as a hosts entry would). Commands:

  ls                      every node of the cloud drive: PATH<TAB>SIZE (folders: -)
  get PATH OUTDIR         download a file of the account into OUTDIR
  put LOCAL FOLDER        upload LOCAL into FOLDER (made when missing; `/` is the root)
  export PATH             export a file (/FOLDER/FILE at most), print its link (legacy `#!` form)
  link-get URL OUTDIR     download a public file link into OUTDIR

Exit status 0 on success; any failure is printed and exits non-zero.
"""

import os
import sys

from mega import Mega

SERVICE = "https://g.api.mega.co.nz/cs"


def paths(files, root):
    """PATH -> (handle, node) for the nodes below the cloud drive's root."""
    out = {}

    def path_of(h):
        n = files[h]
        if h == root:
            return ""
        parent = n.get("p")
        if parent not in files:
            return None
        above = path_of(parent)
        return None if above is None else f"{above}/{n['a']['n']}"

    for h, n in files.items():
        if n.get("t") in (0, 1) and isinstance(n.get("a"), dict):
            p = path_of(h)
            if p:
                out[p] = (h, n)
    return out


def main(url, email, password, cmd, *args):
    m = Mega()
    post = m._http.post
    m._http.post = lambda u, *a, **k: post(str(u).replace(SERVICE, url + "cs"), *a, **k)
    # Signed in even for a link: its anonymous login makes an ephemeral account (`up` with no
    # session), which mega-testserver does not offer.
    m.login(email, password)
    if cmd == "link-get":
        os.makedirs(args[1], exist_ok=True)
        print(m.download_url(args[0], args[1]))
        return
    files = m.get_files()
    by_path = paths(files, m.root_id)
    if cmd == "ls":
        for p in sorted(by_path):
            h, n = by_path[p]
            print(f"{p}\t{n['s'] if n['t'] == 0 else '-'}")
    elif cmd == "get":
        h, _ = by_path[args[0]]
        os.makedirs(args[1], exist_ok=True)
        print(m.download((h, files[h]), args[1]))
    elif cmd == "put":
        folder = args[1].strip("/")
        dest = list(m.create_folder(folder).values())[-1] if folder else None
        print(m.upload(args[0], dest)["f"][0]["h"])
    elif cmd == "export":
        # By path: its export(node_id=...) hands a bare node where a (handle, node) pair is
        # expected. Its path lookup goes one folder deep: FOLDER/FILE.
        print(m.export(path=args[0].strip("/")))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(*sys.argv[1:])
