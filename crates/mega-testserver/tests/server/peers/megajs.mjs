// Drives megajs 1.3.10 against a server: `node megajs.mjs GATEWAY EMAIL PASSWORD CMD ARGS...`.
//   upload LOCAL NAME     uploads LOCAL into the root as NAME
//   download NAME LOCAL   downloads root/NAME (megajs verifies the MAC) to LOCAL
//   ls                    prints the root's children, one name per line
//   link NAME             prints a link to root/NAME (a folder is exported as a folder link)
//   mkdir-upload DIR LOCAL NAME   makes root/DIR and uploads LOCAL into it as NAME
//   link-ls URL           lists a folder link, one name per line
//   link-get URL NAME LOCAL       downloads NAME from a folder link
//   tree                  prints every node below the root: `path<TAB>size`, folders as `path/`
//   get PATH LOCAL        downloads root/PATH (megajs verifies the MAC) to LOCAL
//   rename NAME NEW       renames root/NAME to NEW
import { Storage, File } from 'megajs'
import { readFileSync, writeFileSync } from 'fs'

const [gateway, email, password, cmd, ...args] = process.argv.slice(2)
const storage = new Storage({ email, password, gateway, keepalive: false, autologin: false })
await storage.login()
const byName = name => {
  const f = (storage.root.children || []).find(n => n.name === name)
  if (!f) throw new Error(`no ${name} in the root`)
  return f
}
if (cmd === 'upload') {
  // megajs encrypts the buffer it is given in place: hand it a copy.
  const data = Buffer.from(readFileSync(args[0]))
  await storage.upload({ name: args[1], size: data.length }, data).complete
} else if (cmd === 'download') {
  writeFileSync(args[1], await byName(args[0]).downloadBuffer())
} else if (cmd === 'ls') {
  for (const n of storage.root.children || []) console.log(n.name)
} else if (cmd === 'rename') {
  await byName(args[0]).rename(args[1])
} else if (cmd === 'link') {
  console.log(await byName(args[0]).link())
} else if (cmd === 'mkdir-upload') {
  const dir = await storage.mkdir(args[0])
  const data = Buffer.from(readFileSync(args[1]))
  await dir.upload({ name: args[2], size: data.length }, data).complete
} else if (cmd === 'link-ls' || cmd === 'link-get') {
  const folder = File.fromURL(args[0], { api: storage.api })
  await folder.loadAttributes()
  if (cmd === 'link-ls') {
    for (const n of folder.children || []) console.log(n.name)
  } else {
    const f = (folder.children || []).find(n => n.name === args[1])
    if (!f) throw new Error(`no ${args[1]} in the folder link`)
    // megajs gives a folder link's children its default API (the real service's gateway).
    f.api = storage.api
    writeFileSync(args[2], await f.downloadBuffer())
  }
} else if (cmd === 'tree') {
  const walk = (node, prefix) => {
    for (const n of node.children || []) {
      if (n.directory) {
        console.log(`${prefix}${n.name}/`)
        walk(n, `${prefix}${n.name}/`)
      } else {
        console.log(`${prefix}${n.name}\t${n.size}`)
      }
    }
  }
  walk(storage.root, '')
} else if (cmd === 'get') {
  let node = storage.root
  for (const part of args[0].split('/')) {
    node = (node.children || []).find(n => n.name === part)
    if (!node) throw new Error(`no ${args[0]}`)
  }
  writeFileSync(args[1], await node.downloadBuffer())
} else if (cmd === 'download-link') {
  const f = File.fromURL(args[0], { api: storage.api })
  await f.loadAttributes()
  writeFileSync(args[1], await f.downloadBuffer())
} else {
  throw new Error(`unknown command ${cmd}`)
}
