// The mock drive: a believable account in memory, with the node operations of the IPC contract.
import { ipcError } from '../errors';
import type { DuplicateMode, Handle, Listing, NodeDto, Properties, Roots } from '../types';

interface MockNode {
  handle: Handle;
  parent: Handle | null;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  mtime: number;
  thumb: boolean;
  exported: boolean;
  shared: boolean;
}

const IMAGE = /\.(jpe?g|png|webp|heic)$/i;
const NOW = 1_763_800_000; // 2025-11-22

export class MockDrive {
  nodes = new Map<Handle, MockNode>();
  kids = new Map<Handle, Handle[]>();
  cloud: Handle;
  rubbish: Handle;
  shares: Handle[] = [];
  private next = 1;
  private rnd = 7;

  constructor(opts: { bigFolderSize?: number } = {}) {
    this.cloud = this.add(null, 'Cloud drive', 'folder');
    this.rubbish = this.add(null, 'Rubbish bin', 'folder');
    this.seed(opts.bigFolderSize ?? 100_000);
  }

  private random(): number {
    // xorshift: the same drive on every start
    this.rnd ^= this.rnd << 13;
    this.rnd ^= this.rnd >>> 17;
    this.rnd ^= this.rnd << 5;
    return (this.rnd >>> 0) / 4294967296;
  }

  private handle(): Handle {
    // base62 of a scrambled counter: unique, and looks like MEGA's 8-character handles
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const space = 62 ** 8;
    for (;;) {
      let n = (this.next++ * 2654435761) % space;
      let s = '';
      for (let i = 0; i < 8; i++) {
        s += abc[n % 62];
        n = Math.floor(n / 62);
      }
      if (!this.nodes.has(s)) return s;
    }
  }

  add(parent: Handle | null, name: string, kind: 'file' | 'folder', size = 0, mtime?: number): Handle {
    const handle = this.handle();
    const node: MockNode = {
      handle,
      parent,
      name,
      kind,
      size: kind === 'folder' ? 0 : size,
      mtime: mtime ?? NOW - Math.floor(this.random() * 86400 * 400),
      thumb: kind === 'file' && IMAGE.test(name),
      exported: false,
      shared: false,
    };
    this.nodes.set(handle, node);
    if (kind === 'folder') this.kids.set(handle, []);
    if (parent) this.kids.get(parent)!.push(handle);
    return handle;
  }

  private files(parent: Handle, names: string[], min: number, max: number): void {
    for (const n of names) this.add(parent, n, 'file', Math.floor(min + this.random() * (max - min)));
  }

  private photos(parent: Handle, prefix: string, count: number): void {
    for (let i = 1; i <= count; i++) {
      const name = `${prefix}_${String(i).padStart(4, '0')}.jpg`;
      this.add(parent, name, 'file', Math.floor(1_800_000 + this.random() * 4_000_000));
    }
  }

  private seed(big: number): void {
    const root = this.cloud;
    const docs = this.add(root, 'Documents', 'folder');
    this.add(docs, 'report.pdf', 'file', 482_113, NOW - 86400 * 30);
    this.add(docs, 'report.pdf', 'file', 511_904, NOW - 86400 * 2);
    const n1 = this.add(docs, 'Notes', 'folder');
    const n2 = this.add(docs, 'Notes', 'folder');
    this.files(n1, ['meeting-2025-03.md', 'ideas.md', 'reading-list.md'], 800, 9000);
    this.files(n2, ['meeting-2025-04.md', 'groceries.txt'], 200, 4000);
    const personal = this.add(docs, 'Personal', 'folder');
    const cv = this.add(personal, 'CV.pdf', 'file', 148_220);
    this.nodes.get(cv)!.exported = true;
    this.files(personal, ['passport-scan.pdf', 'tax-return-2024.pdf'], 300_000, 2_400_000);
    const inv = this.add(docs, 'Invoices', 'folder');
    for (let m = 1; m <= 12; m++) this.add(inv, `invoice-2025-${String(m).padStart(2, '0')}.pdf`, 'file', 60_000 + m * 1711);
    this.files(docs, ['budget-2025.xlsx', 'contract-draft.docx', 'roadmap.md', 'slides-q3.pptx'], 20_000, 3_000_000);

    const photos = this.add(root, 'Photos', 'folder');
    const p24 = this.add(photos, '2024', 'folder');
    this.nodes.get(p24)!.exported = true;
    this.photos(p24, 'IMG', 36);
    const p23 = this.add(photos, '2023', 'folder');
    this.photos(p23, 'DSC', 20);
    const walls = this.add(photos, 'Wallpapers', 'folder');
    this.files(walls, ['aoraki.png', 'milford-sound.png', 'tongariro.png', 'abel-tasman.png', 'lake-tekapo.png'], 2_000_000, 9_000_000);

    const music = this.add(root, 'Music', 'folder');
    const amb = this.add(music, 'Ambient', 'folder');
    this.files(amb, ['rain-on-tin.wav', 'tui-morning.wav', 'southern-alps.wav', 'harbour.wav'], 20_000_000, 60_000_000);
    this.files(music, ['podcast-ep01.mp3', 'podcast-ep02.mp3', 'podcast-ep03.mp3'], 30_000_000, 70_000_000);

    const proj = this.add(root, 'Projects', 'folder');
    const tua = this.add(proj, 'tuatara', 'folder');
    const src = this.add(tua, 'src', 'folder');
    this.files(src, ['main.rs', 'lib.rs', 'session.rs', 'tree.rs', 'chunks.rs', 'journal.rs'], 1_000, 40_000);
    this.files(tua, ['README.md', 'Cargo.toml', 'Cargo.lock', 'LICENSE'], 1_000, 90_000);
    const web = this.add(proj, 'website', 'folder');
    this.files(web, ['index.html', 'style.css', 'app.js', 'logo.svg'], 1_000, 60_000);

    const data = this.add(root, 'Datasets', 'folder');
    const weather = this.add(data, 'weather-archive.bin', 'file', 480 * 1024 * 1024);
    this.nodes.get(weather)!.exported = true;
    this.add(data, 'census-2023.csv', 'file', 52 * 1024 * 1024);
    this.add(data, 'sensor-readings.parquet', 'file', 150 * 1024 * 1024);
    this.files(data, ['schema.json', 'README.md'], 1_000, 8_000);

    const backups = this.add(root, 'Backups', 'folder');
    this.add(backups, 'laptop-2025-10.tar.zst', 'file', 8_412_000_000);
    this.add(backups, 'phone-backup.zip', 'file', 2_104_000_000);

    const cam = this.add(root, 'Camera Uploads', 'folder');
    const kids: Handle[] = this.kids.get(cam)!;
    const start = NOW - big * 600;
    for (let i = 0; i < big; i++) {
      const handle = this.handle();
      const video = i % 23 === 0;
      const mtime = start + i * 600 + (i % 7) * 13;
      // named like a phone names them: IMG_20231104_142233.jpg
      const stamp = new Date(mtime * 1000).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
      const name = `${video ? 'VID' : 'IMG'}_${stamp}.${video ? 'mp4' : 'jpg'}`;
      this.nodes.set(handle, {
        handle,
        parent: cam,
        name,
        kind: 'file',
        size: video ? 40_000_000 + (i % 97) * 1_000_000 : 1_500_000 + (i % 131) * 29_000,
        mtime,
        thumb: true,
        exported: false,
        shared: false,
      });
      kids.push(handle);
    }

    this.add(root, 'Welcome to Tuatara.pdf', 'file', 1_204_332, NOW - 86400 * 400);
    this.add(root, 'todo.txt', 'file', 1_337, NOW - 3600 * 5);

    // rubbish: two files and a folder
    this.add(this.rubbish, 'old-notes.txt', 'file', 4_210);
    this.add(this.rubbish, 'draft (1).docx', 'file', 88_100);
    const shots = this.add(this.rubbish, 'Old screenshots', 'folder');
    this.files(shots, ['screen-01.png', 'screen-02.png', 'screen-03.png'], 200_000, 900_000);

    // an incoming share, read-only
    const trip = this.add(null, 'Trip to Wanaka', 'folder');
    this.nodes.get(trip)!.shared = true;
    this.photos(trip, 'wanaka', 12);
    this.add(trip, 'itinerary.pdf', 'file', 210_400);
    this.shares.push(trip);
  }

  get(handle: Handle): MockNode {
    const n = this.nodes.get(handle);
    if (!n) throw ipcError('notFound', `no node ${handle}`);
    return n;
  }

  private rootOf(handle: Handle): Handle {
    let n = this.get(handle);
    while (n.parent) n = this.get(n.parent);
    return n.handle;
  }

  inRubbish(handle: Handle): boolean {
    return this.rootOf(handle) === this.rubbish && handle !== this.rubbish;
  }

  readOnly(handle: Handle): boolean {
    return this.shares.includes(this.rootOf(handle));
  }

  dto(handle: Handle, dupNames?: Set<string>): NodeDto {
    const n = this.get(handle);
    const kids = this.kids.get(handle);
    let hasSubfolders = false;
    if (kids && kids.length < 5000) hasSubfolders = kids.some((k) => this.nodes.get(k)!.kind === 'folder');
    return {
      handle: n.handle,
      parent: n.parent,
      name: n.name,
      kind: n.kind,
      size: n.size,
      mtime: n.mtime,
      hasThumbnail: n.thumb,
      duplicate: dupNames?.has(n.name) ?? false,
      exported: n.exported,
      shared: n.shared,
      inRubbish: this.inRubbish(handle),
      hasSubfolders,
    };
  }

  private duplicateNames(kids: Handle[]): Set<string> {
    const seen = new Set<string>();
    const dup = new Set<string>();
    for (const k of kids) {
      const name = this.nodes.get(k)!.name;
      if (seen.has(name)) dup.add(name);
      seen.add(name);
    }
    return dup;
  }

  roots(): Roots {
    return { cloud: this.dto(this.cloud), rubbish: this.dto(this.rubbish), shares: this.shares.map((h) => this.dto(h)) };
  }

  list(handle: Handle): Listing {
    const folder = this.get(handle);
    if (folder.kind !== 'folder') throw ipcError('invalid', 'not a folder');
    const kids = this.kids.get(handle)!;
    const dup = this.duplicateNames(kids);
    const path: NodeDto[] = [];
    for (let n: MockNode | undefined = folder; n; n = n.parent ? this.get(n.parent) : undefined) path.unshift(this.dto(n.handle));
    return { folder: this.dto(handle), path, children: kids.map((k) => this.dto(k, dup)) };
  }

  subfolders(handle: Handle): NodeDto[] {
    const kids = this.kids.get(this.get(handle).handle) ?? [];
    return kids.filter((k) => this.nodes.get(k)!.kind === 'folder').map((k) => this.dto(k));
  }

  search(query: string, under?: Handle): NodeDto[] {
    const q = query.toLowerCase();
    const glob = /[*?]/.test(q)
      ? new RegExp(`^${q.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
      : null;
    const out: NodeDto[] = [];
    const stack = [under ?? this.cloud];
    while (stack.length && out.length < 1000) {
      const h = stack.pop()!;
      for (const k of this.kids.get(h) ?? []) {
        const n = this.nodes.get(k)!;
        const name = n.name.toLowerCase();
        if (glob ? glob.test(name) : name.includes(q)) out.push(this.dto(k));
        if (out.length >= 1000) break;
        if (n.kind === 'folder') stack.push(k);
      }
    }
    return out;
  }

  pathOf(handle: Handle): string {
    const names: string[] = [];
    for (let n: MockNode | undefined = this.get(handle); n; n = n.parent ? this.get(n.parent) : undefined) {
      names.unshift(n.parent ? n.name : '');
    }
    return names.join('/') || '/';
  }

  properties(handle: Handle): Properties {
    let files = 0;
    let folders = 0;
    let totalSize = 0;
    const walk = (h: Handle) => {
      for (const k of this.kids.get(h) ?? []) {
        const n = this.nodes.get(k)!;
        if (n.kind === 'folder') {
          folders++;
          walk(k);
        } else {
          files++;
          totalSize += n.size;
        }
      }
    };
    const n = this.get(handle);
    if (n.kind === 'folder') walk(handle);
    else totalSize = n.size;
    return {
      node: this.dto(handle),
      path: this.pathOf(handle),
      files,
      folders,
      totalSize,
      link: n.exported ? fakeLink(n) : null,
    };
  }

  private writable(handle: Handle): void {
    if (this.readOnly(handle)) throw ipcError('invalid', 'this share is read-only');
  }

  mkdir(parent: Handle, name: string): NodeDto {
    this.writable(parent);
    if (!name.trim() || name.includes('/')) throw ipcError('invalid', 'a name may not be empty or contain /');
    const exists = this.kids.get(parent)!.some((k) => this.nodes.get(k)!.name === name);
    if (exists) throw ipcError('exists', `${name} exists`);
    return this.dto(this.add(parent, name, 'folder', 0, Math.floor(Date.now() / 1000)));
  }

  rename(handle: Handle, name: string): Handle {
    this.writable(handle);
    if (!name.trim() || name.includes('/')) throw ipcError('invalid', 'a name may not be empty or contain /');
    const n = this.get(handle);
    n.name = name;
    return n.parent!;
  }

  private detach(h: Handle): Handle {
    const n = this.get(h);
    const list = this.kids.get(n.parent!)!;
    list.splice(list.indexOf(h), 1);
    return n.parent!;
  }

  move(handles: Handle[], target: Handle): Handle[] {
    const t = this.get(target);
    if (t.kind !== 'folder') throw ipcError('invalid', 'target is not a folder');
    this.writable(target);
    for (let p: MockNode | undefined = t; p; p = p.parent ? this.get(p.parent) : undefined) {
      if (handles.includes(p.handle)) throw ipcError('invalid', 'cannot move a folder into itself');
    }
    const touched = new Set<Handle>([target]);
    for (const h of handles) {
      this.writable(h);
      touched.add(this.detach(h));
      this.get(h).parent = target;
      this.kids.get(target)!.push(h);
    }
    return [...touched];
  }

  remove(handles: Handle[]): Handle[] {
    const touched = new Set<Handle>();
    const drop = (h: Handle) => {
      for (const k of this.kids.get(h) ?? []) drop(k);
      this.nodes.delete(h);
      this.kids.delete(h);
    };
    for (const h of handles) {
      if (!this.inRubbish(h)) throw ipcError('invalid', 'only items in the rubbish bin can be deleted forever');
      touched.add(this.detach(h));
      drop(h);
    }
    return [...touched];
  }

  restore(handles: Handle[]): Handle[] {
    const touched = this.move(handles, this.cloud);
    return touched;
  }

  resolveDuplicates(handle: Handle, mode: DuplicateMode): void {
    this.writable(handle);
    const kids = this.kids.get(handle)!;
    const groups = new Map<string, MockNode[]>();
    for (const k of kids) {
      const n = this.nodes.get(k)!;
      groups.set(n.name, [...(groups.get(n.name) ?? []), n]);
    }
    for (const [, group] of groups) {
      if (group.length < 2) continue;
      if (mode === 'rename') {
        group.slice(1).forEach((n, i) => {
          const dot = n.kind === 'file' ? n.name.lastIndexOf('.') : -1;
          n.name = dot > 0 ? `${n.name.slice(0, dot)} (${i + 1})${n.name.slice(dot)}` : `${n.name} (${i + 1})`;
        });
        continue;
      }
      const key = (n: MockNode) => (mode === 'largest' ? n.size : mode === 'newest' ? n.mtime : -n.mtime);
      const keep = group.reduce((a, b) => (key(b) > key(a) ? b : a));
      const rest = group.filter((n) => n !== keep).map((n) => n.handle);
      this.move(rest, this.rubbish);
    }
  }

  export(handle: Handle): MockNode {
    const n = this.get(handle);
    if (this.inRubbish(handle)) throw ipcError('invalid', 'items in the rubbish bin cannot be shared');
    n.exported = true;
    return n;
  }

  /** Every exported node, by path ("Shared by me"). */
  exportedNodes(): { node: MockNode; path: string; size: number }[] {
    return [...this.nodes.values()]
      .filter((n) => n.exported)
      .map((node) => ({ node, path: this.pathOf(node.handle), size: node.kind === 'folder' ? this.filesBelow(node.handle).reduce((t, f) => t + f.size, 0) : node.size }))
      .sort((a, b) => a.path.localeCompare(b.path));
  }

  filesBelow(handle: Handle): MockNode[] {
    const out: MockNode[] = [];
    const walk = (h: Handle) => {
      for (const k of this.kids.get(h) ?? []) {
        const n = this.nodes.get(k)!;
        if (n.kind === 'folder') walk(k);
        else out.push(n);
      }
    };
    walk(handle);
    return out;
  }
}

export function fakeKey(seed: string, len: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let h = 2166136261;
  let s = '';
  for (let i = 0; i < len; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i % seed.length) ^ i, 16777619) >>> 0;
    s += abc[h % 64];
  }
  return s;
}

export function fakeLink(n: { handle: Handle; kind: 'file' | 'folder' }): string {
  return n.kind === 'folder'
    ? `https://mega.nz/folder/${n.handle}#${fakeKey(n.handle, 22)}`
    : `https://mega.nz/file/${n.handle}#${fakeKey(n.handle, 43)}`;
}
