// megajs 1.3.10 driven for `make bench`: `node megajs-bench.mjs GATEWAY EMAIL PASSWORD CMD ARGS...`
//   upload LOCAL NAME          uploads LOCAL into the root as NAME
//   download NAME LOCAL        downloads root/NAME (megajs checks the MAC) to LOCAL
//   upload-dir DIR NAME        makes root/NAME and uploads every file of DIR into it, one by one
//   download-dir NAME DIR      downloads every file of root/NAME into DIR
//   count                      logs in, lists the whole tree, prints the number of nodes
// It lives beside megajs's node_modules when run (the bench copies it there).
import { Storage } from 'megajs'
import { readFileSync, writeFileSync, readdirSync } from 'fs'
import { join } from 'path'

const [gateway, email, password, cmd, ...args] = process.argv.slice(2)
const storage = new Storage({ email, password, gateway, keepalive: false, autologin: false })
await storage.login()
const child = (dir, name) => {
  const f = (dir.children || []).find(n => n.name === name)
  if (!f) throw new Error(`no ${name}`)
  return f
}
const upload = async (dir, local, name) => {
  // megajs encrypts the buffer it is given in place; it is read fresh for each file.
  const data = Buffer.from(readFileSync(local))
  await dir.upload({ name, size: data.length }, data).complete
}
if (cmd === 'upload') {
  await upload(storage.root, args[0], args[1])
} else if (cmd === 'download') {
  writeFileSync(args[1], await child(storage.root, args[0]).downloadBuffer())
} else if (cmd === 'upload-dir') {
  const dir = await storage.mkdir(args[1])
  for (const name of readdirSync(args[0]).sort()) await upload(dir, join(args[0], name), name)
} else if (cmd === 'download-dir') {
  const dir = child(storage.root, args[0])
  for (const f of dir.children || []) writeFileSync(join(args[1], f.name), await f.downloadBuffer())
} else if (cmd === 'count') {
  console.log(Object.keys(storage.files).length)
} else {
  throw new Error(`unknown command ${cmd}`)
}
