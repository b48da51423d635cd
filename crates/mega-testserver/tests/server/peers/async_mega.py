"""async-mega-py (PyPI `async-mega-py`, a third-party MEGA client) as an interop peer.

Usage: python async_mega.py API_URL EMAIL PASSWORD COMMAND [ARGS...]

API_URL is the server's gateway ending in `/`; the client's built-in `https://g.api.mega.co.nz/cs`
is replaced by `API_URL + "cs"` (the only change made to the client). Commands:

  ls                      every node below the cloud drive and the shares: PATH<TAB>SIZE (folders: -)
  get PATH OUTDIR         download a file of the account into OUTDIR
  put LOCAL FOLDER        upload LOCAL into FOLDER (made when missing; `/` is the root)
  export PATH             export a file, print its link
  link-ls URL             the files of a public folder link: PATH<TAB>SIZE (not signed in)
  link-get URL OUTDIR     download a public file or folder link into OUTDIR (not signed in)

Exit status 0 on success; any failure is printed and exits non-zero.
"""

import asyncio
import sys
from pathlib import PurePosixPath

import yarl
import mega.api
from mega.client import MegaNzClient


def rows(fs):
    out = []
    for node in fs:
        if not (node.is_file or node.is_folder):
            continue
        try:
            path = fs.absolute_path(node.id)
        except KeyError:
            continue
        out.append(f"{path.as_posix()}\t{int(node.size) if node.is_file else '-'}")
    return sorted(out)


async def main(url, email, password, cmd, *args):
    mega.api.MegaAPI._entrypoint = yarl.URL(url + "cs")
    async with MegaNzClient() as m:
        # Public links are opened without signing in, as a visitor would.
        if not cmd.startswith("link-"):
            await m.login(email, password)
        if cmd == "ls":
            print("\n".join(rows(await m.get_filesystem())))
        elif cmd == "get":
            fs = await m.get_filesystem()
            print(await m.download(fs.find(args[0]), args[1]))
        elif cmd == "put":
            folder = args[1].strip("/")
            dest = (await m.create_folder(folder)).id if folder else None
            print((await m.upload(args[0], dest)).id)
        elif cmd == "export":
            # Files only: 2.5.0 never learns the share key of a folder of its own account
            # (its vault takes share keys only for folders shared with it), so its export() of
            # a folder fails on its own assertion.
            print(await m.export((await m.get_filesystem()).find(args[0])))
        elif cmd == "link-ls":
            info = m.parse_url(args[0])
            fs = await m.get_public_filesystem(info.public_handle, info.public_key)
            print("\n".join(r for r in rows(fs) if not r.endswith("\t-")))
        elif cmd == "link-get":
            results = await m.download_url(args[0], args[1])
            if results.fails:
                raise SystemExit(f"link-get failed: {results.fails}")
            print(len(results.success))
        else:
            raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
