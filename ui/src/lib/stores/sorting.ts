// Sorting and filtering a listing: plain functions over plain arrays, run once per change.
import type { NodeDto } from '../ipc';

export type SortKey = 'name' | 'size' | 'mtime' | 'type';
export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

export function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

const ASCII = /^[\x00-\x7f]*$/;
const DIGITS = /\d+/g;
const ZEROS = '0000000000000000';

function padRun(d: string): string {
  let i = 0;
  while (i < d.length - 1 && d.charCodeAt(i) === 48) i++;
  const t = i ? d.slice(i) : d;
  return t.length >= 16 ? t : ZEROS.slice(t.length) + t;
}

/**
 * A key that orders names as people expect with a plain `<`: case and accents folded, digit
 * runs padded so "a9" comes before "a10".
 */
export function nameKey(name: string): string {
  let s = name.toLowerCase();
  if (!ASCII.test(s)) s = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return s.replace(DIGITS, padRun);
}

const pad = (n: number, width: number) => {
  const t = String(Math.max(0, Math.floor(n)));
  return t.length >= width ? t : ZEROS.slice(0, width - t.length) + t;
};

/**
 * Folders first (in either direction), then by the key, ties by name. Each node becomes one
 * string whose plain order is the wanted order, and the engine's native string sort does the
 * rest: several times faster than a comparator, which matters for 100,000 rows.
 */
export function sortNodes(nodes: readonly NodeDto[], sort: Sort): NodeDto[] {
  const { key, dir } = sort;
  const keys = new Array<string>(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const primary = key === 'size' ? pad(n.size, 16) : key === 'mtime' ? pad(n.mtime, 12) : key === 'type' ? extension(n.name) : '';
    keys[i] = `${n.kind === 'folder' ? '0' : '1'}${primary}\u0000${nameKey(n.name)}\u0000${n.name}\u0001${i}`;
  }
  keys.sort();
  const out = keys.map((k) => nodes[Number(k.slice(k.lastIndexOf('\u0001') + 1))]);
  if (dir === -1) {
    // reverse within the folders and within the files
    const folders = out.findIndex((n) => n.kind !== 'folder');
    const cut = folders < 0 ? out.length : folders;
    return [...out.slice(0, cut).reverse(), ...out.slice(cut).reverse()];
  }
  return out;
}

/** Case-insensitive "name contains"; `*` and `?` make it a glob over the whole name. */
export function filterNodes(nodes: NodeDto[], filter: string): NodeDto[] {
  const f = filter.trim().toLowerCase();
  if (!f) return nodes;
  if (/[*?]/.test(f)) {
    const re = new RegExp(`^${f.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    return nodes.filter((n) => re.test(n.name));
  }
  return nodes.filter((n) => n.name.toLowerCase().includes(f));
}
