import { describe, expect, it } from 'vitest';
import type { NodeDto } from '../ipc';
import { filterNodes, nameKey, sortNodes } from './sorting';

const node = (name: string, kind: 'file' | 'folder', size = 0, mtime = 0): NodeDto => ({
  handle: name + kind,
  parent: 'P',
  name,
  kind,
  size,
  mtime,
  hasThumbnail: false,
  duplicate: false,
  exported: false,
  shared: false,
  inRubbish: false,
  hasSubfolders: false,
});

const nodes = [node('b.txt', 'file', 30, 3), node('Zeta', 'folder'), node('a10.png', 'file', 10, 1), node('a9.png', 'file', 20, 2), node('alpha', 'folder')];

describe('sortNodes', () => {
  it('puts folders first and sorts names naturally', () => {
    expect(sortNodes(nodes, { key: 'name', dir: 1 }).map((n) => n.name)).toEqual(['alpha', 'Zeta', 'a9.png', 'a10.png', 'b.txt']);
  });
  it('reverses within the folder and file groups', () => {
    expect(sortNodes(nodes, { key: 'name', dir: -1 }).map((n) => n.name)).toEqual(['Zeta', 'alpha', 'b.txt', 'a10.png', 'a9.png']);
  });
  it('sorts by size, modified time and type', () => {
    expect(sortNodes(nodes, { key: 'size', dir: -1 }).slice(2).map((n) => n.size)).toEqual([30, 20, 10]);
    expect(sortNodes(nodes, { key: 'mtime', dir: 1 }).slice(2).map((n) => n.mtime)).toEqual([1, 2, 3]);
    expect(sortNodes(nodes, { key: 'type', dir: 1 }).slice(2).map((n) => n.name)).toEqual(['a9.png', 'a10.png', 'b.txt']);
  });
  it('does not touch its input', () => {
    const copy = [...nodes];
    sortNodes(nodes, { key: 'size', dir: 1 });
    expect(nodes).toEqual(copy);
  });
});

describe('filterNodes', () => {
  it('matches a substring case-insensitively', () => {
    expect(filterNodes(nodes, 'ALP').map((n) => n.name)).toEqual(['alpha']);
  });
  it('treats * and ? as a glob over the whole name', () => {
    expect(filterNodes(nodes, '*.png').map((n) => n.name)).toEqual(['a10.png', 'a9.png']);
    expect(filterNodes(nodes, 'a?.png').map((n) => n.name)).toEqual(['a9.png']);
  });
  it('keeps everything for an empty filter and escapes regex characters', () => {
    expect(filterNodes(nodes, '  ')).toHaveLength(5);
    expect(filterNodes(nodes, '(')).toHaveLength(0);
  });
});

describe('nameKey', () => {
  it('folds case and accents and orders digit runs by value', () => {
    const names = ['file10', 'File2', 'éclair', 'eclair2', 'file02b', 'zebra', 'Ångström'];
    const sorted = [...names].sort((a, b) => (nameKey(a) < nameKey(b) ? -1 : 1));
    expect(sorted).toEqual(['Ångström', 'éclair', 'eclair2', 'File2', 'file02b', 'file10', 'zebra']);
  });
});
