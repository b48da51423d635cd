// The viewer on the mock backend: the kind of view by name, space to open and close, the
// arrows through the folder's files (folders skipped), its actions, a text file's start, and
// a file inside a folder link before import.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { drive } from '../lib/stores/drive.svelte';
import { ui } from '../lib/stores/ui.svelte';
import { neighbour, viewer, viewKind } from '../lib/stores/viewer.svelte';
import type { NodeDto } from '../lib/ipc';
import type { MockBackend } from '../lib/ipc/mock';
import { useMock } from './helpers';

afterEach(() => {
  viewer.close();
  cleanup();
  ui.dialog = null;
  ui.menu = null;
});

const row = (name: string) => screen.getAllByTestId('file-row').find((r) => r.dataset.name === name)!;
const list = () => screen.getByTestId('file-list');
const shown = () => screen.queryByTestId('viewer-name')?.textContent ?? null;
const called = (m: MockBackend, cmd: string) => m.calls.filter((c) => c[0] === cmd);

async function start(): Promise<MockBackend> {
  const m = useMock({ signedIn: true, bigFolderSize: 10 });
  render(Shell);
  await waitFor(() => expect(screen.getAllByTestId('file-row').length).toBeGreaterThan(3));
  return m;
}

async function openFolder(name: string) {
  await fireEvent.dblClick(row(name));
  await waitFor(() => expect(screen.getAllByTestId('crumb').at(-1)!.textContent).toContain(name));
}

/** Focuses the list on `name` (arrows from the top). */
async function focusOn(name: string) {
  list().focus();
  await fireEvent.keyDown(list(), { key: 'Home' });
  while (drive.focused?.name !== name) await fireEvent.keyDown(list(), { key: 'ArrowDown' });
}

const node = (name: string, kind: 'file' | 'folder' = 'file'): NodeDto => ({
  handle: name,
  parent: null,
  name,
  kind,
  size: 1,
  mtime: 0,
  hasThumbnail: false,
  duplicate: false,
  exported: false,
  shared: false,
  inRubbish: false,
  hasSubfolders: false,
});

describe('viewer', () => {
  it('knows how to show a file by its name', () => {
    expect(['a.JPG', 'b.png', 'clip.webm', 'film.mp4', 'x.avi', 'song.wav', 'ep.mp3', 'notes.md', 'main.rs', 'data.csv'].map(viewKind)).toEqual([
      'image',
      'image',
      'video',
      'video',
      'video',
      'audio',
      'audio',
      'text',
      'text',
      'text',
    ]);
    expect(['report.pdf', 'backup.zip', 'disk.iso', 'noextension'].map(viewKind)).toEqual(['pdf', 'none', 'none', 'none']);
    const files = [node('A', 'folder'), node('b.jpg'), node('C', 'folder'), node('d.jpg')];
    expect(neighbour(files, 1, 1)).toBe(3);
    expect(neighbour(files, 3, 1)).toBe(3);
    expect(neighbour(files, 1, -1)).toBe(1);
    expect(neighbour(files, 3, -1)).toBe(1);
  });

  it('opens with space, moves with the arrows, closes with space', async () => {
    const m = await start();
    await openFolder('Photos');
    await openFolder('Wallpapers');
    await focusOn('aoraki.png');
    await fireEvent.keyDown(list(), { key: ' ' });
    await waitFor(() => expect(shown()).toBe('aoraki.png'));
    expect(screen.getByTestId('viewer').dataset.kind).toBe('image');
    const img = (await screen.findByTestId('viewer-image')) as HTMLImageElement;
    const stream = called(m, 'stream_url').at(-1)![1] as { handle: string };
    expect(stream.handle).toBe(row('aoraki.png').dataset.handle);
    expect(img.src).toMatch(/^data:image/);
    // the stored preview was asked for; the stream is not verified yet
    expect(called(m, 'preview').length).toBe(1);
    await waitFor(() => expect(screen.getByTestId('viewer-integrity').textContent).toMatch(/Not verified.*1 of 8 chunks/));

    const order = drive.rows.filter((n) => n.kind === 'file').map((n) => n.name);
    const at = order.indexOf('aoraki.png');
    await fireEvent.keyDown(list(), { key: 'ArrowRight' });
    expect(shown()).toBe(order[at + 1]);
    await fireEvent.keyDown(window, { key: 'ArrowLeft' });
    await fireEvent.keyDown(window, { key: 'ArrowLeft' });
    expect(shown()).toBe(order[at - 1] ?? order[at]);
    // the list follows the viewer (its own arrow keys do not run while the viewer has them)
    expect(drive.focused?.name).toBe(shown());
    const last = shown();
    await fireEvent.keyDown(list(), { key: ' ' });
    expect(screen.queryByTestId('viewer')).toBeNull();
    await fireEvent.keyDown(list(), { key: ' ' });
    await waitFor(() => expect(shown()).toBe(last));
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('viewer')).toBeNull();
  });

  it('offers the external player, the stream URL and keeping it as a download', async () => {
    const m = await start();
    await openFolder('Music');
    await focusOn('podcast-ep01.mp3');
    await fireEvent.keyDown(list(), { key: ' ' });
    const audio = (await screen.findByTestId('viewer-audio')) as HTMLAudioElement;
    expect(audio.src).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mock-token\/.*podcast-ep01\.mp3$/);
    await fireEvent.click(screen.getByTestId('viewer-external'));
    await fireEvent.click(screen.getByTestId('viewer-copy'));
    await fireEvent.click(screen.getByTestId('viewer-keep'));
    await waitFor(() => expect(called(m, 'download').length).toBe(1));
    expect(called(m, 'stream_open_external').length).toBe(1);
    expect(called(m, 'copy_text')[0][1]).toEqual({ chars: audio.src.length });
    expect((called(m, 'download')[0][1] as { handles: string[] }).handles).toEqual([drive.focused!.handle]);
  });

  it('opens from the context menu of a file, not of a folder', async () => {
    await start();
    await fireEvent.contextMenu(row('Documents'));
    expect(screen.queryByTestId('menu-preview')).toBeNull();
    await fireEvent.keyDown(window, { key: 'Escape' });
    await fireEvent.contextMenu(row('todo.txt'));
    await fireEvent.click(screen.getByTestId('menu-preview'));
    await waitFor(() => expect(shown()).toBe('todo.txt'));
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    expect(drive.focused?.name).toBe('Welcome to Tuatara.pdf');
  });

  it('shows the start of a text file, and says when a PDF cannot be drawn', async () => {
    const m = await start();
    await focusOn('todo.txt');
    await fireEvent.keyDown(list(), { key: ' ' });
    await waitFor(() => expect(screen.getByTestId('viewer-text').textContent).toContain('todo.txt'));
    expect(called(m, 'stream_text').length).toBe(1);
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    await waitFor(() => expect(shown()).toBe('Welcome to Tuatara.pdf'));
    // a PDF is drawn by pdf.js, which jsdom cannot host: it says so, and the actions stay
    expect(screen.getByTestId('viewer').dataset.kind).toBe('pdf');
    await waitFor(() => expect(screen.getByTestId('viewer-none').textContent).toMatch(/cannot draw PDFs/));
    expect((screen.getByTestId('viewer-external') as HTMLButtonElement).disabled).toBe(false);
  });

  it('previews a file inside a folder link before import', async () => {
    const m = await start();
    await fireEvent.click(screen.getByTestId('open-links'));
    await fireEvent.input(screen.getByTestId('links-text'), { target: { value: 'https://mega.nz/folder/FoLdEr12#' + 'f'.repeat(22) } });
    await fireEvent.click(screen.getByTestId('links-check'));
    await waitFor(() => screen.getByTestId('link-browse'));
    await fireEvent.click(screen.getByTestId('link-browse'));
    await waitFor(() => screen.getByTestId('folder-link-browser'));
    await fireEvent.click(screen.getAllByTestId('folder-link-preview')[0]);
    await waitFor(() => expect(shown()).toBe('IMG_1001.jpg'));
    const asked = called(m, 'folder_link_stream_url');
    expect(asked.at(-1)![1]).toEqual({ handle: 'FLIMG001' });
    // no stored preview for a link's file: the stream only
    expect(called(m, 'preview').length).toBe(0);
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    await waitFor(() => expect(shown()).toBe('IMG_1002.jpg'));
    // Escape closes the viewer, not the links dialog behind it
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('viewer')).toBeNull();
    expect(screen.getByTestId('folder-link-browser')).toBeTruthy();
    await fireEvent.keyDown(window, { key: ' ' });
    expect(screen.queryByTestId('viewer')).toBeNull();
  });
});
