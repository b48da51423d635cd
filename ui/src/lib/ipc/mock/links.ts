// Public links for the mock: parsing every MEGA link form out of text, and fake checks.
import { ipcError } from '../errors';
import type { FolderLinkDto, LinkCheck, NodeDto } from '../types';
import { fakeKey } from './drive';

const LINK =
  /https?:\/\/(?:www\.)?mega\.(?:nz|co\.nz)\/(?:(file|folder)\/([A-Za-z0-9_-]{8})(?:#([A-Za-z0-9_-]+))?|#(F?)!([A-Za-z0-9_-]{8})(?:!([A-Za-z0-9_-]+))?|#P!([A-Za-z0-9_-]+))|mega:\/\/#(F?)!([A-Za-z0-9_-]{8})!([A-Za-z0-9_-]+)/g;

export interface ParsedLink {
  link: string;
  kind: 'file' | 'folder';
  id: string;
  key: string | null;
  protected: boolean;
}

export function parseLinks(text: string): ParsedLink[] {
  const out = new Map<string, ParsedLink>();
  for (const m of text.matchAll(LINK)) {
    let p: ParsedLink;
    if (m[1]) p = mk(m[1] === 'folder' ? 'folder' : 'file', m[2], m[3] ?? null);
    else if (m[5]) p = mk(m[4] ? 'folder' : 'file', m[5], m[6] ?? null);
    else if (m[7]) p = { link: `https://mega.nz/#P!${m[7]}`, kind: 'file', id: m[7].slice(0, 8), key: null, protected: true };
    else p = mk(m[8] ? 'folder' : 'file', m[9], m[10]);
    out.set(p.link, p);
  }
  return [...out.values()];
}

function mk(kind: 'file' | 'folder', id: string, key: string | null): ParsedLink {
  const link = `https://mega.nz/${kind}/${id}${key ? `#${key}` : ''}`;
  return { link, kind, id, key, protected: false };
}

const NAMES = ['holiday-video.mp4', 'thesis-final.pdf', 'album.zip', 'dataset-part1.tar', 'keynote.mov', 'photos.rar', 'ubuntu-24.04.iso', 'mixtape.flac'];

function seeded(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

export function checkLink(p: ParsedLink): LinkCheck {
  const base = { link: p.link, kind: p.kind, name: null, size: null, message: null, warning: null };
  if (p.protected) return { ...base, status: 'needsPassword', message: 'Protected by a password' };
  if (/gone|dead/i.test(p.id)) return { ...base, status: 'removed', message: 'The file was removed' };
  if (/tos|blk/i.test(p.id)) return { ...base, status: 'blocked', message: 'Blocked for a terms of service violation' };
  if (!p.key) return { ...base, status: 'needsKey', message: 'The link has no decryption key' };
  if (p.key.length !== (p.kind === 'folder' ? 22 : 43)) return { ...base, status: 'bad', message: 'The key has the wrong length' };
  const h = seeded(p.id);
  return {
    ...base,
    status: 'alive',
    name: p.kind === 'folder' ? `Shared folder ${p.id.slice(0, 4)}` : NAMES[h % NAMES.length],
    size: p.kind === 'folder' ? 120_000_000 + (h % 900) * 1_000_000 : 2_000_000 + (h % 5000) * 300_000,
  };
}

export function unlock(p: ParsedLink, password?: string, key?: string): LinkCheck {
  if (p.protected) {
    if (password !== 'tuatara') throw ipcError('auth', 'wrong password');
    const id = p.id.replace(/[^A-Za-z0-9]/g, 'x').padEnd(8, 'x').slice(0, 8);
    return checkLink(mk('file', id, fakeKey(id, 43)));
  }
  if (!key) throw ipcError('invalid', 'a key is needed');
  return checkLink(mk(p.kind, p.id, key));
}

export function fakeFolderLink(p: ParsedLink): FolderLinkDto {
  const mtime = 1_760_000_000;
  const node = (handle: string, parent: string | null, name: string, kind: 'file' | 'folder', size = 0): NodeDto => ({
    handle,
    parent,
    name,
    kind,
    size,
    mtime,
    hasThumbnail: /\.jpg$/.test(name),
    duplicate: false,
    exported: false,
    shared: false,
    inRubbish: false,
    hasSubfolders: kind === 'folder' && handle === 'FLROOT01',
  });
  const root = node('FLROOT01', null, checkLink(p).name ?? 'Shared folder', 'folder');
  const nodes: NodeDto[] = [root];
  const sub = node('FLSUB001', 'FLROOT01', 'Raw', 'folder');
  nodes.push(sub);
  for (let i = 1; i <= 14; i++) {
    nodes.push(node(`FLIMG${String(i).padStart(3, '0')}`, 'FLROOT01', `IMG_${1000 + i}.jpg`, 'file', 2_000_000 + i * 91_000));
  }
  for (let i = 1; i <= 6; i++) {
    nodes.push(node(`FLRAW${String(i).padStart(3, '0')}`, 'FLSUB001', `IMG_${1000 + i}.cr3`, 'file', 24_000_000 + i * 1_000_000));
  }
  nodes.push(node('FLTXT001', 'FLROOT01', 'README.txt', 'file', 1_200));
  return { link: p.link, root, nodes };
}
