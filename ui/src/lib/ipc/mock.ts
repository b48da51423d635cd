// A mock backend with the same interface as the Tauri one: a fake drive in memory, transfers
// that progress, links, watched folders and settings. Used by vitest and by a plain browser
// (vite dev/preview), so the UI runs and can be screenshot without Rust.
//
// In a browser, query parameters pick a scenario: `?signedin` restores a session at start,
// `?quota=720` starts with the transfer quota used up for 720 s, `?mfa` makes login ask for a
// code (123456), `?links=<text>` fires links://opened at start, `?calm` seeds no transfers.
import type { Backend, DropEvent, Unlisten } from './backend';
import { ipcError } from './errors';
import { MockDrive, fakeLink, fakeKey } from './mock/drive';
import { fakeFolderLink, checkLink, parseLinks, unlock } from './mock/links';
import { mockThumbnail } from './mock/thumbs';
import { MockTransfers } from './mock/transfers';
import type { Account, Handle, LinkCheck, LinkHealth, LinksOpened, LinksRechecked, QuotaWaiting, ReceivedLink, Settings, TreeChanged, WatchDto } from './types';

export interface MockOptions {
  /** milliseconds each call takes (login takes 10 times as long); 0 in tests */
  latency?: number;
  /** how often transfers advance; 0 stops the timer (tests call `transfers.tick`) */
  tickMs?: number;
  /** a session to restore at start */
  signedIn?: boolean;
  /** seconds of transfer quota wait at start */
  quotaWait?: number | null;
  /** seed a few transfers in every state */
  seedTransfers?: boolean;
  /** entries of the huge folder ("Camera Uploads") */
  bigFolderSize?: number;
  /** text sent as links://opened once a listener is there */
  openLinks?: string | null;
  /** listen to the page's HTML drag-and-drop as if it were the OS's */
  htmlDragDrop?: boolean;
}

export type MockBackend = Backend & {
  drive: MockDrive;
  transfers: MockTransfers;
  emitTreeChanged(e: TreeChanged): void;
  emitSessionExpired(): void;
  emitLinksOpened(e: LinksOpened): void;
  emitLinksRechecked(e: LinksRechecked): void;
  emitQuotaWaiting(e: QuotaWaiting): void;
  emitDragDrop(e: DropEvent): void;
  /** every call made, for tests: [command, args] */
  calls: Array<[string, unknown]>;
};

class Emitter<T> {
  private cbs = new Set<(v: T) => void>();
  on(cb: (v: T) => void): Promise<Unlisten> {
    this.cbs.add(cb);
    return Promise.resolve(() => this.cbs.delete(cb));
  }
  emit(v: T): void {
    for (const cb of [...this.cbs]) cb(v);
  }
  get size(): number {
    return this.cbs.size;
  }
}

function browserOptions(): MockOptions {
  if (typeof window === 'undefined' || !window.location) return {};
  const q = new URLSearchParams(window.location.search);
  return {
    latency: 120,
    tickMs: 250,
    signedIn: q.has('signedin') || localStorage.getItem('tuatara-mock-session') !== null,
    quotaWait: q.has('quota') ? Number(q.get('quota') || 720) : null,
    seedTransfers: !q.has('calm'),
    openLinks: q.get('links'),
    htmlDragDrop: true,
  };
}

const DEMO: Account = { email: 'demo@tuatara.test', name: 'Demo', apiUrl: 'http://127.0.0.1:4444/', demo: true, remembered: false };

export function mockBackend(options: MockOptions = browserOptions()): MockBackend {
  const o = { latency: 0, tickMs: 0, signedIn: false, quotaWait: null, seedTransfers: false, bigFolderSize: 100_000, ...options };
  const drive = new MockDrive({ bigFolderSize: o.bigFolderSize });
  const transfers = new MockTransfers(o.tickMs);
  const calls: Array<[string, unknown]> = [];
  /** the links ledger: links downloaded, by public handle */
  const received = new Map<string, ReceivedLink>();
  const receive = (id: string, kind: 'file' | 'folder', name: string, size: number, downloaded = true) =>
    received.set(id, { id: `${kind}:${id}`, kind, name, size, downloaded, error: downloaded ? null : 'the key does not open the file', health: null, checkedAt: null, reason: null, history: [] });
  if (o.seedTransfers) {
    const day = 86_400;
    const now = Math.floor(Date.now() / 1000);
    receive('r1Kx9aQz', 'file', 'lecture-01.mp4', 734_003_200);
    receive('r2Bq7tYw', 'folder', 'Field recordings', 2_480_000_000);
    receive('goneR3aa', 'file', 'mixtape-2019.zip', 188_000_000);
    receive('r4Hn2pLs', 'file', 'scan-0042.pdf', 4_100_000, false);
    const gone = received.get('goneR3aa')!;
    Object.assign(gone, { health: 'removed', checkedAt: now - 2 * 3600, reason: 'the link was removed or does not exist', history: [{ at: now - 30 * day, status: 'alive' }, { at: now - 2 * 3600, status: 'removed' }] });
    Object.assign(received.get('r1Kx9aQz')!, { health: 'alive', checkedAt: now - 2 * 3600, history: [{ at: now - 30 * day, status: 'alive' }] });
  }
  const receivedList = () => [...received.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())).map((r) => structuredClone(r));
  const healthOf = (id: string): LinkHealth => (/gone|dead/i.test(id) ? 'removed' : /tos|blk/i.test(id) ? 'takenDown' : 'alive');
  let account: Account | null = o.signedIn ? { ...DEMO, remembered: true } : null;
  let pendingMfa: Account | null = null;
  let quotaUntil = o.quotaWait ? Date.now() / 1000 + o.quotaWait : null;
  let settings: Settings = {
    downloadDir: '/home/you/Downloads',
    connections: 6,
    maxFilesAtOnce: 3,
    downloadLimit: null,
    uploadLimit: null,
    schedule: [{ from: '09:00', to: '18:00', downloadLimit: 2048 * 1024, uploadLimit: 512 * 1024 }],
    useHttps: false,
    notifications: true,
    watchClipboard: false,
    linksRecheckHours: 0,
    closeAction: 'background-while-transferring',
    startAtLogin: false,
  };
  let watches: WatchDto[] = [
    { id: 'w1', kind: 'upload', local: '/home/you/Pictures/Phone', remote: '/Camera Uploads', paused: false, lastActivity: Math.floor(Date.now() / 1000) - 420, error: null, uploaded: 1832, trashDeleted: false, ignore: ['*.tmp'] },
    { id: 'w2', kind: 'upload', local: '/home/you/Work/reports', remote: '/Documents', paused: true, lastActivity: Math.floor(Date.now() / 1000) - 86400 * 3, error: null, uploaded: 57, trashDeleted: true, ignore: [] },
    { id: 'w3', kind: 'links', local: '/home/you/links-inbox.txt', remote: '/home/you/Downloads', paused: false, lastActivity: null, error: 'Permission denied reading /home/you/links-inbox.txt', uploaded: 0, trashDeleted: false, ignore: [] },
  ];
  const expired = new Emitter<void>();
  const tree = new Emitter<TreeChanged>();
  const links = new Emitter<LinksOpened>();
  const rechecked = new Emitter<LinksRechecked>();
  const quotaEv = new Emitter<QuotaWaiting>();
  const drops = new Emitter<DropEvent>();

  /** stream ids given out, with their files' names */
  const streams = new Map<string, string>();
  // The mock has no stream server: a picture streams as its thumbnail, anything else as nothing.
  const mockStream = (handle: Handle, name: string, size: number) => {
    const id = `s-${handle}`;
    streams.set(id, name);
    const url = /\.(jpe?g|png|webp|gif)$/i.test(name) ? mockThumbnail(handle) : `http://127.0.0.1:4445/mock-token/${id}/${encodeURIComponent(name)}`;
    return { id, url, name, size };
  };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function run<T>(name: string, args: unknown, f: () => T, factor = 1): Promise<T> {
    calls.push([name, args]);
    if (o.latency) await wait(o.latency * factor * (0.6 + Math.random() * 0.8));
    else await Promise.resolve();
    return f();
  }
  function signedIn(): void {
    if (!account) throw ipcError('notSignedIn', 'not signed in');
  }
  const changed = (folders: Handle[]): void => void setTimeout(() => tree.emit({ folders }), 0);

  function seed(): void {
    const weather = drive.search('weather-archive.bin')[0];
    transfers.add({ direction: 'download', name: 'census-2023.csv', size: 52 * 1024 * 1024, rate: 0, done: 52 * 1024 * 1024, state: 'done', path: '/home/you/Downloads/census-2023.csv' });
    transfers.add({ direction: 'download', name: weather?.name ?? 'weather-archive.bin', size: 480 * 1024 * 1024, rate: 11_500_000, done: 143 * 1024 * 1024, state: 'active' });
    transfers.add({ direction: 'upload', name: 'holiday-2025.mov', size: 820 * 1024 * 1024, rate: 3_200_000, done: 96 * 1024 * 1024, retryAt: 0.14, state: 'active' });
    transfers.add({ direction: 'download', name: 'sensor-readings.parquet', size: 150 * 1024 * 1024, rate: 8_000_000, failAt: 0.4, done: 20 * 1024 * 1024 });
    transfers.add({ direction: 'download', name: 'laptop-2025-10.tar.zst', size: 8_412_000_000, rate: 9_000_000, state: 'paused', done: 2_100_000_000 });
    if (quotaUntil) {
      transfers.add({ direction: 'download', name: 'ubuntu-24.04.iso', size: 6_100_000_000, rate: 9_000_000, done: 5_200_000_000 });
      // with the transfer quota used up, every download waits for it; uploads go on
      for (const j of transfers.jobs) {
        if (j.direction !== 'download' || ['done', 'paused', 'cancelled'].includes(j.state)) continue;
        Object.assign(j, { state: 'waiting', reason: 'Transfer quota used up', until: Math.round(quotaUntil), speed: 0, eta: null });
      }
    }
  }
  if (o.seedTransfers) seed();

  function newJobsForHandles(handles: Handle[]): string[] {
    return handles.map((h) => {
      const p = drive.properties(h);
      return transfers.add({ direction: 'download', name: p.node.name, size: p.totalSize, rate: 6_000_000 + Math.random() * 8_000_000 });
    });
  }

  const m: MockBackend = {
    isMock: true,
    drive,
    transfers,
    calls,
    emitTreeChanged: (e) => tree.emit(e),
    emitSessionExpired: () => expired.emit(),
    emitLinksOpened: (e) => links.emit(e),
    emitLinksRechecked: (e) => rechecked.emit(e),
    emitQuotaWaiting: (e) => quotaEv.emit(e),
    emitDragDrop: (e) => drops.emit(e),

    appInfo: () => run('app_info', undefined, () => ({ version: '0.1.0-mock', defaultApiUrl: 'https://g.api.mega.co.nz/', demoAvailable: true })),
    sessionRestore: () => run('session_restore', undefined, () => account),
    login: (a) =>
      run(
        'login',
        { email: a.email, remember: a.remember, apiUrl: a.apiUrl },
        () => {
          if (!a.email.includes('@')) throw ipcError('invalid', 'that is not an email address');
          if (a.password !== 'tuatara-demo') throw ipcError('auth', 'wrong email or password');
          const acc: Account = { email: a.email, name: a.email.split('@')[0], apiUrl: a.apiUrl || 'https://g.api.mega.co.nz/', demo: false, remembered: a.remember };
          if (a.email.startsWith('mfa') || new URLSearchParams(globalThis.location?.search ?? '').has('mfa')) {
            pendingMfa = acc;
            return { step: 'needsMfa' as const };
          }
          account = acc;
          if (a.remember && typeof localStorage !== 'undefined') localStorage.setItem('tuatara-mock-session', a.email);
          return { step: 'signedIn' as const, account: acc };
        },
        10,
      ),
    submitMfa: (a) =>
      run('submit_mfa', { code: '******' }, () => {
        if (!pendingMfa) throw ipcError('invalid', 'no login is waiting for a code');
        if (a.code !== '123456') throw ipcError('auth', 'wrong code');
        account = pendingMfa;
        pendingMfa = null;
        return account;
      }),
    openDemo: () => run('open_demo', undefined, () => (account = { ...DEMO }), 6),
    logout: () =>
      run('logout', undefined, () => {
        account = null;
        if (typeof localStorage !== 'undefined') localStorage.removeItem('tuatara-mock-session');
      }),

    quota: () =>
      run('quota', undefined, () => {
        signedIn();
        const left = quotaUntil ? Math.max(0, Math.round(quotaUntil - Date.now() / 1000)) : 0;
        return { storageUsed: 14_260_000_000, storageTotal: 20 * 1024 ** 3, transferUsed: left ? 8 * 1024 ** 3 : 3_300_000_000, transferTotal: 8 * 1024 ** 3, transferWaitSeconds: left || null };
      }),
    roots: () => run('roots', undefined, () => (signedIn(), drive.roots())),
    listFolder: (a) => run('list_folder', a, () => (signedIn(), drive.list(a.handle))),
    subfolders: (a) => run('subfolders', a, () => drive.subfolders(a.handle)),
    search: (a) => run('search', a, () => drive.search(a.query, a.under)),
    thumbnail: (a) => run('thumbnail', a, () => (drive.get(a.handle).thumb ? mockThumbnail(a.handle) : null), 0.5),
    properties: (a) => run('properties', a, () => drive.properties(a.handle)),
    mkdir: (a) => run('mkdir', a, () => { const n = drive.mkdir(a.parent, a.name); changed([a.parent]); return n; }),
    rename: (a) => run('rename', a, () => changed([drive.rename(a.handle, a.name)])),
    moveNodes: (a) => run('move_nodes', a, () => changed(drive.move(a.handles, a.target))),
    trash: (a) => run('trash', a, () => changed(drive.move(a.handles, drive.rubbish))),
    restore: (a) => run('restore', a, () => changed(drive.restore(a.handles))),
    deleteForever: (a) => run('delete_forever', a, () => changed(drive.remove(a.handles))),
    getLink: (a) =>
      run('get_link', { handle: a.handle, password: a.password ? '***' : undefined }, () => {
        const n = drive.export(a.handle);
        const link = fakeLink(n);
        const [without, key] = link.split('#');
        changed([n.parent!]);
        if (a.password) return { link: `https://mega.nz/#P!${fakeKey(link + a.password, 60)}`, linkWithoutKey: without, key };
        return { link, linkWithoutKey: without, key };
      }),
    exportFolderLinks: (a) => run('export_folder_links', a, () => drive.filesBelow(a.handle).map((n) => fakeLink(n))),
    linkRemove: (a) =>
      run('link_remove', a, () => {
        const n = drive.get(a.handle);
        n.exported = false;
        changed([n.parent!]);
      }),
    resolveDuplicates: (a) => run('resolve_duplicates', a, () => { drive.resolveDuplicates(a.handle, a.mode); changed([a.handle, drive.rubbish]); }),

    transfersSubscribe: (onEvent) => run('transfers_subscribe', undefined, () => transfers.subscribe(onEvent)),
    download: (a) => run('download', a, () => newJobsForHandles(a.handles)),
    upload: (a) =>
      run('upload', a, () => {
        if (drive.readOnly(a.parent)) throw ipcError('invalid', 'this share is read-only');
        return a.paths.map((p) => {
          const name = p.split(/[\\/]/).pop() || p;
          const size = 3_000_000 + Math.floor(Math.random() * 40_000_000);
          return transfers.add({
            direction: 'upload',
            name,
            size,
            rate: 4_000_000,
            onDone: () => { drive.add(a.parent, name, 'file', size, Math.floor(Date.now() / 1000)); changed([a.parent]); },
          });
        });
      }),
    transferControl: (a) => run('transfer_control', a, () => transfers.control(a.id, a.action)),
    transfersPauseAll: (a) => run('transfers_pause_all', a, () => transfers.pauseAll(a.paused)),
    transfersClearFinished: () => run('transfers_clear_finished', undefined, () => transfers.clearFinished()),
    reveal: (a) => run('reveal', a, () => undefined),

    // links downloaded before are `done`, as the app's links ledger says
    // `password` opens every `#P!` link of the batch ('tuatara' does)
    linksCheck: (a) =>
      run('links_check', { chars: a.text.length, keys: a.keys ? a.keys.split('\n').filter((l) => l.trim()).length : 0, ...(a.password ? { password: '<redacted>' } : {}) }, () =>
        parseLinks(a.text).map((p): LinkCheck => {
          if (p.protected && a.password) {
            if (a.password !== 'tuatara') return { ...checkLink(p), message: 'wrong password' };
            return unlock(p, a.password);
          }
          return received.get(p.id)?.downloaded ? { ...checkLink(p), status: 'done' } : checkLink(p);
        }), 4),
    linksUnlock: (a) =>
      run('links_unlock', { link: '(hidden)' }, () => {
        const p = parseLinks(a.link)[0];
        if (!p) throw ipcError('badLink', 'not a MEGA link');
        return unlock(p, a.password, a.key);
      }),
    linksDownload: (a) =>
      run('links_download', { count: a.links.length, dest: a.dest }, () =>
        a.links.map((l) => {
          const p = parseLinks(l)[0];
          const c = checkLink(p);
          receive(p.id, p.kind, c.name ?? 'file', c.size ?? 0);
          return transfers.add({ direction: 'download', name: c.name ?? 'file', size: c.size ?? 1_000_000, rate: 7_000_000 });
        }),
      ),
    linksImport: (a) =>
      run('links_import', { count: a.links.length, parent: a.parent }, () => {
        for (const l of a.links) {
          const c = checkLink(parseLinks(l)[0]);
          drive.add(a.parent, c.name ?? 'imported', c.kind, c.size ?? 0);
        }
        changed([a.parent]);
      }),
    folderLinkOpen: (a) =>
      run('folder_link_open', { link: '(hidden)' }, () => {
        const p = parseLinks(a.link)[0];
        if (!p || p.kind !== 'folder') throw ipcError('badLink', 'not a folder link');
        return fakeFolderLink(p);
      }),
    folderLinkDownload: (a) =>
      run('folder_link_download', { count: a.handles.length, dest: a.dest }, () => {
        const all = fakeFolderLink(parseLinks(a.link)[0]).nodes;
        return a.handles.map((h) => {
          const n = all.find((x) => x.handle === h);
          return transfers.add({ direction: 'download', name: n?.name ?? h, size: n?.size ?? 0, rate: 7_000_000 });
        });
      }),
    linksReceived: () => run('links_received', undefined, receivedList),
    linksReceivedCheck: () =>
      run('links_received_check', undefined, () => {
        const at = Math.floor(Date.now() / 1000);
        for (const [id, r] of received) {
          const health = healthOf(id);
          if (r.history.at(-1)?.status !== health) r.history = [...r.history, { at, status: health }].slice(-10);
          Object.assign(r, { health, checkedAt: at, reason: health === 'alive' ? null : health === 'removed' ? 'the link was removed or does not exist' : 'taken down' });
        }
        return receivedList();
      }, 6),
    linksReceivedForget: (a) => run('links_received_forget', a, () => { for (const id of a.ids) received.delete(id.split(':')[1] ?? id); }),
    linksShared: () =>
      run('links_shared', undefined, () =>
        drive.exportedNodes().map(({ node, path, size }) => {
          const link = fakeLink(node);
          const [linkWithoutKey, key] = link.split('#');
          return { handle: node.handle, kind: node.kind, name: node.name, path, size, link, linkWithoutKey, key };
        }),
      ),
    linksSharedCheck: () =>
      run('links_shared_check', undefined, () => drive.exportedNodes().map(({ node }) => ({ handle: node.handle, status: healthOf(node.name), reason: null })), 4),
    linksSave: (a) => run('links_save', { path: a.path, count: a.links.length }, () => undefined),
    diagnosticsExport: (a) => run('diagnostics_export', a, () => undefined),
    streamUrl: (a) =>
      run('stream_url', a, () => {
        signedIn();
        const n = drive.get(a.handle);
        if (n.kind !== 'file') throw ipcError('invalid', `${n.name} is a folder, not a file`);
        return mockStream(n.handle, n.name, n.size);
      }),
    folderLinkStreamUrl: (a) =>
      run('folder_link_stream_url', { handle: a.handle }, () => {
        const n = fakeFolderLink(parseLinks(a.link)[0]).nodes.find((x) => x.handle === a.handle);
        if (!n || n.kind !== 'file') throw ipcError('notFound', `no file ${a.handle} in the link`);
        return mockStream(n.handle, n.name, n.size);
      }),
    streamIntegrity: (a) => run('stream_integrity', a, () => ({ verdict: 'unverified' as const, seen: 1, chunks: 8 })),
    streamText: (a) => run('stream_text', a, () => ({ text: `The mock drive has no bytes: this stands for the start of ${streams.get(a.id) ?? 'the file'}.\n`, truncated: false })),
    streamRead: (a) => run('stream_read', a, () => btoa('%PDF-1.4\n'.slice(a.offset, a.offset + a.length))),
    streamOpenExternal: (a) => run('stream_open_external', a, () => undefined),
    preview: (a) => run('preview', a, () => (drive.get(a.handle).thumb ? mockThumbnail(a.handle) : null), 0.5),
    linksExportSave: (a) =>
      run('links_export_save', { ...a, ...(a.password ? { password: '<redacted>' } : {}) }, () => {
        if (a.keyFile && a.password) throw ipcError('invalid', 'keys apart or a password: one or the other');
        return a.asFolder ? 1 : drive.filesBelow(a.handle).length;
      }),

    watchList: () => run('watch_list', undefined, () => watches.map((w) => ({ ...w }))),
    watchAdd: (a) =>
      run('watch_add', a, () => {
        if (watches.some((w) => w.local === a.local)) throw ipcError('exists', 'that folder is watched already');
        const ignore = (a.ignore ?? []).map((g) => g.trim()).filter((g) => g);
        const remote = `/${a.remote.trim().replace(/^\/+|\/+$/g, '')}`;
        const w: WatchDto = { id: `w${Date.now()}`, kind: 'upload', local: a.local, remote, paused: false, lastActivity: null, error: null, uploaded: 0, trashDeleted: a.trashDeleted ?? false, ignore };
        watches = [...watches, w];
        return w;
      }),
    watchAddLinks: (a) =>
      run('watch_add_links', a, () => {
        if (watches.some((w) => w.local === a.source)) throw ipcError('exists', 'that links file is watched already');
        const w: WatchDto = { id: `w${Date.now()}`, kind: 'links', local: a.source, remote: a.dest, paused: false, lastActivity: null, error: null, uploaded: 0, trashDeleted: false, ignore: [] };
        watches = [...watches, w];
        return w;
      }),
    watchPause: (a) => run('watch_pause', a, () => void (watches = watches.map((w) => (w.id === a.id ? { ...w, paused: a.paused } : w)))),
    watchRemove: (a) => run('watch_remove', a, () => void (watches = watches.filter((w) => w.id !== a.id))),

    settingsGet: () => run('settings_get', undefined, () => structuredClone(settings)),
    settingsSet: (s) =>
      run('settings_set', s, () => {
        if (s.connections < 1 || s.connections > 16) throw ipcError('invalid', 'connections must be 1 to 16');
        if (s.maxFilesAtOnce < 1 || s.maxFilesAtOnce > 10) throw ipcError('invalid', 'files at once must be 1 to 10');
        settings = structuredClone(s);
      }),

    onSessionExpired: (cb) => expired.on(cb),
    onTreeChanged: (cb) => tree.on(cb),
    onLinksOpened: (cb) => {
      const un = links.on(cb);
      if (o.openLinks) {
        const text = o.openLinks;
        o.openLinks = null;
        setTimeout(() => links.emit({ text }), 600);
      }
      return un;
    },
    onLinksRechecked: (cb) => rechecked.on(cb),
    onQuotaWaiting: (cb) => {
      const un = quotaEv.on(cb);
      if (quotaUntil) {
        const seconds = Math.round(quotaUntil - Date.now() / 1000);
        setTimeout(() => quotaEv.emit({ seconds }), 0);
      }
      return un;
    },
    onDragDrop: (cb) => {
      const un = drops.on(cb);
      if (o.htmlDragDrop) return Promise.resolve(htmlDrops(drops, un));
      return un;
    },
    copyText: async (text) => {
      await run('copy_text', { chars: text.length }, () => undefined);
      await navigator.clipboard?.writeText(text);
    },
    startupLinks: () => run('startup_links', undefined, () => []),
    pickSavePath: (opts) => run('pick_save_path', opts, () => `/home/you/Documents/${opts.defaultPath ?? 'links.txt'}`),
    pickPaths: (opts) =>
      run('pick_paths', opts, () =>
        opts.directory ? ['/home/you/Downloads/Tuatara'] : ['/home/you/Pictures/tekapo-sunrise.jpg', '/home/you/Documents/notes-2025.md'],
      ),
  };
  void account;
  return m;
}

/** In a plain browser: the page's HTML5 drag-and-drop stands in for the OS's. */
function htmlDrops(drops: Emitter<DropEvent>, un: Promise<Unlisten>): Unlisten {
  const dpr = () => window.devicePixelRatio || 1;
  const pos = (e: DragEvent) => ({ x: e.clientX * dpr(), y: e.clientY * dpr() });
  const names = (e: DragEvent) => [...(e.dataTransfer?.files ?? [])].map((f) => `/home/you/${f.name}`);
  let depth = 0;
  const enter = (e: DragEvent) => {
    e.preventDefault();
    if (depth++ === 0) drops.emit({ type: 'enter', paths: names(e), position: pos(e) });
  };
  const over = (e: DragEvent) => {
    e.preventDefault();
    drops.emit({ type: 'over', position: pos(e) });
  };
  const leave = () => {
    if (--depth === 0) drops.emit({ type: 'leave' });
  };
  const drop = (e: DragEvent) => {
    e.preventDefault();
    depth = 0;
    drops.emit({ type: 'drop', paths: names(e), position: pos(e) });
  };
  window.addEventListener('dragenter', enter);
  window.addEventListener('dragover', over);
  window.addEventListener('dragleave', leave);
  window.addEventListener('drop', drop);
  return () => {
    void un.then((u) => u());
    window.removeEventListener('dragenter', enter);
    window.removeEventListener('dragover', over);
    window.removeEventListener('dragleave', leave);
    window.removeEventListener('drop', drop);
  };
}
