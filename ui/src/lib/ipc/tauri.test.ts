// The real adapter over Tauri's own IPC mocks: command names and arguments as docs/IPC.md
// says, errors as IpcError, the transfers Channel and the webview's drag-and-drop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { tauriBackend } from './tauri';
import type { DropEvent } from './backend';
import type { TransferEvent } from './types';

const calls: Array<[string, unknown]> = [];

beforeEach(() => {
  calls.length = 0;
  mockWindows('main');
});
afterEach(() => clearMocks());

describe('tauri adapter', () => {
  it('calls each command by its snake_case name with camelCase arguments', async () => {
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'login') return { step: 'needsMfa' };
      if (cmd === 'list_folder') return { folder: {}, path: [], children: [] };
      return null;
    });
    const b = tauriBackend();
    expect(await b.login({ email: 'a@b.c', password: 'pw', remember: true, apiUrl: 'http://x/' })).toEqual({ step: 'needsMfa' });
    await b.listFolder({ handle: 'AAAAAAAA' });
    await b.moveNodes({ handles: ['h1', 'h2'], target: 't' });
    await b.deleteForever({ handles: ['h1'] });
    await b.transfersPauseAll({ paused: true });
    await b.settingsSet({ downloadDir: '/d', connections: 4, maxFilesAtOnce: 2, downloadLimit: null, uploadLimit: null, schedule: [], useHttps: false, notifications: true, watchClipboard: false, linksRecheckHours: 0, closeAction: 'quit', startAtLogin: false });
    expect(calls.map((c) => c[0])).toEqual(['login', 'list_folder', 'move_nodes', 'delete_forever', 'transfers_pause_all', 'settings_set']);
    expect(calls[0][1]).toEqual({ email: 'a@b.c', password: 'pw', remember: true, apiUrl: 'http://x/' });
    expect(calls[2][1]).toEqual({ handles: ['h1', 'h2'], target: 't' });
    expect((calls[5][1] as { settings: { connections: number } }).settings.connections).toBe(4);
  });

  it('turns a rejection into an IpcError by kind, and anything else into internal', async () => {
    mockIPC((cmd) => {
      if (cmd === 'quota') throw { kind: 'quota', message: 'over', retryable: true };
      throw 'boom';
    });
    const b = tauriBackend();
    await expect(b.quota()).rejects.toEqual({ kind: 'quota', message: 'over', retryable: true });
    await expect(b.roots()).rejects.toMatchObject({ kind: 'internal', message: 'boom' });
  });

  it('passes a Channel to transfers_subscribe and delivers its events in order', async () => {
    const progress: TransferEvent = { event: 'progress', data: { id: 'j1', done: 5, speed: 1, eta: 9 } };
    const removed: TransferEvent = { event: 'removed', data: { id: 'j1' } };
    mockIPC((cmd, args) => {
      if (cmd !== 'transfers_subscribe') return null;
      const id = (args as { onEvent: { id: number } }).onEvent.id;
      const run = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, d: unknown): void } }).__TAURI_INTERNALS__.runCallback;
      // out of order on the wire: the channel puts them back in order
      run(id, { index: 1, message: removed });
      run(id, { index: 0, message: progress });
      return [];
    });
    const got: TransferEvent[] = [];
    expect(await tauriBackend().transfersSubscribe((e) => got.push(e))).toEqual([]);
    expect(got).toEqual([progress, removed]);
  });

  it('forwards the webview drag-and-drop with physical positions', async () => {
    mockIPC(() => {}, { shouldMockEvents: true });
    const got: DropEvent[] = [];
    const un = await tauriBackend().onDragDrop((e) => got.push(e));
    await emit('tauri://drag-enter', { paths: ['/tmp/a.jpg'], position: { x: 10, y: 20 } });
    await emit('tauri://drag-drop', { paths: ['/tmp/a.jpg', '/tmp/b'], position: { x: 200, y: 300 } });
    await emit('tauri://drag-leave', null);
    un();
    expect(got).toEqual([
      { type: 'enter', paths: ['/tmp/a.jpg'], position: { x: 10, y: 20 } },
      { type: 'drop', paths: ['/tmp/a.jpg', '/tmp/b'], position: { x: 200, y: 300 } },
      { type: 'leave' },
    ]);
  });

  it('listens to the app events of the contract', async () => {
    mockIPC(() => {}, { shouldMockEvents: true });
    const b = tauriBackend();
    const seen: string[] = [];
    const uns = await Promise.all([
      b.onSessionExpired(() => seen.push('expired')),
      b.onTreeChanged((e) => seen.push(`tree:${e.folders.join(',')}`)),
      b.onLinksOpened((e) => seen.push(`links:${e.text.length}`)),
      b.onQuotaWaiting((e) => seen.push(`quota:${e.seconds}`)),
    ]);
    await emit('session://expired', null);
    await emit('tree://changed', { folders: ['F1', 'F2'] });
    await emit('links://opened', { text: 'https://mega.nz/file/x' });
    await emit('quota://waiting', { seconds: 720 });
    uns.forEach((u) => u());
    expect(seen).toEqual(['expired', 'tree:F1,F2', 'links:22', 'quota:720']);
  });
});
