// OS drag-and-drop: Tauri's drag-drop events, through the real adapter, become an upload into
// the folder row under the pointer (physical pixels / devicePixelRatio), else the open folder.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import Shell from '../lib/components/Shell.svelte';
import { setBackend } from '../lib/ipc';
import { tauriBackend } from '../lib/ipc/tauri';
import { mockBackend, type MockBackend } from '../lib/ipc/mock';
import { ipcRouter, settle } from './helpers';

let m: MockBackend;
let under: Element | null = null;
let asked: Array<[number, number]> = [];

beforeEach(() => {
  m = mockBackend({ latency: 0, tickMs: 0, signedIn: true, bigFolderSize: 10 });
  mockWindows('main');
  mockIPC(ipcRouter(m), { shouldMockEvents: true });
  setBackend(tauriBackend());
  asked = [];
  under = null;
  // jsdom has no layout: answer hit tests with the element the test put "under the pointer"
  document.elementsFromPoint = (x: number, y: number) => {
    asked.push([x, y]);
    return under ? [under] : [];
  };
  vi.stubGlobal('devicePixelRatio', 2);
});

afterEach(() => {
  cleanup();
  clearMocks();
  vi.unstubAllGlobals();
});

const row = (name: string) => screen.getAllByTestId('file-row').find((r) => r.dataset.name === name)!;
const uploads = () => m.calls.filter((c) => c[0] === 'upload').map((c) => c[1]);

async function start() {
  render(Shell);
  await waitFor(() => expect(screen.getAllByTestId('file-row').length).toBeGreaterThan(3));
}

describe('drag and drop', () => {
  it('shows the overlay while files hover, naming the folder under the pointer', async () => {
    await start();
    under = row('Photos').querySelector('.label');
    await emit('tauri://drag-enter', { paths: ['/home/me/a.jpg', '/home/me/b.jpg'], position: { x: 400, y: 300 } });
    await settle();
    const overlay = screen.getByTestId('drop-overlay');
    expect(overlay.textContent).toMatch(/2 items/);
    expect(overlay.textContent).toMatch(/Photos/);
    expect(row('Photos').classList.contains('drop')).toBe(true);
    expect(asked.at(-1)).toEqual([200, 150]);
    under = null;
    await emit('tauri://drag-over', { position: { x: 10, y: 900 } });
    await settle();
    expect(screen.getByTestId('drop-overlay').textContent).toMatch(/Cloud drive/);
    await emit('tauri://drag-leave', null);
    await settle();
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
  });

  it('uploads onto the folder row under the drop position', async () => {
    await start();
    under = row('Documents');
    await emit('tauri://drag-drop', { paths: ['/home/me/report.odt'], position: { x: 640, y: 220 } });
    await settle();
    expect(asked.at(-1)).toEqual([320, 110]);
    expect(uploads()).toEqual([{ paths: ['/home/me/report.odt'], parent: row('Documents').dataset.handle }]);
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
  });

  it('uploads into the open folder when dropped on a file row or empty space', async () => {
    await start();
    const cloud = m.drive.cloud;
    under = row('todo.txt');
    await emit('tauri://drag-drop', { paths: ['/a', '/b'], position: { x: 1, y: 1 } });
    under = null;
    await emit('tauri://drag-drop', { paths: ['/c'], position: { x: 5, y: 5 } });
    await settle();
    expect(uploads()).toEqual([
      { paths: ['/a', '/b'], parent: cloud },
      { paths: ['/c'], parent: cloud },
    ]);
  });

  it('does not upload into the rubbish bin or an incoming share', async () => {
    await start();
    screen.getByTestId('sidebar-rubbish').click();
    await waitFor(() => expect(screen.getAllByTestId('file-row').some((r) => r.dataset.name === 'old-notes.txt')).toBe(true));
    under = row('Old screenshots');
    await emit('tauri://drag-drop', { paths: ['/x'], position: { x: 5, y: 5 } });
    await settle();
    expect(uploads()).toEqual([]);
  });
});
