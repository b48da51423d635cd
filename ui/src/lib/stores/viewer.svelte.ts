// The viewer: one file of a folder shown from the app's loopback stream server (pictures, the
// webview's own player for video and audio, the start of a text file), with the files of its
// folder a key away. Files of the drive and of a public folder link (before any import) alike;
// what the stream says of its integrity is polled while it shows.
import { describeError, ipc, toIpcError, type Handle, type NodeDto, type StreamDto, type StreamIntegrity } from '../ipc';
import { category } from '../components/common/filetypes';
import { notify } from './notify.svelte';

export type ViewKind = 'image' | 'video' | 'audio' | 'text' | 'pdf' | 'none';

/** How a file is shown, by its name (PDFs by pdf.js: WebKitGTK renders none inline). */
export function viewKind(name: string): ViewKind {
  const c = category(name, 'file');
  if (c === 'image' || c === 'video' || c === 'audio' || c === 'text' || c === 'pdf') return c;
  if (c === 'code') return 'text';
  return 'none';
}

/** Image formats the webview decodes (RAW and HEIC files show their stored preview only). */
const DECODED = /\.(jpe?g|png|gif|webp|bmp|svg)$/i;

/** The file of `files` after (`step` 1) or before (-1) `index`, skipping folders; `index`
 * itself when there is none. */
export function neighbour(files: NodeDto[], index: number, step: 1 | -1): number {
  for (let i = index + step; i >= 0 && i < files.length; i += step) if (files[i].kind === 'file') return i;
  return index;
}

export interface Showing {
  /** The folder's entries, in the order shown (folders are skipped). */
  files: NodeDto[];
  index: number;
  /** The public folder link the files are in (not imported), or none for the drive. */
  link?: string;
  /** Told the index of each file moved to (the list follows). */
  onmove?: (index: number) => void;
}

const POLL_MS = 1500;

class Viewer {
  showing = $state.raw<Showing | null>(null);
  stream = $state.raw<StreamDto | null>(null);
  /** The stored preview (a data: URL), shown until the full picture is in. */
  preview = $state<string | null>(null);
  /** The full picture loaded. */
  full = $state(false);
  text = $state.raw<{ text: string; truncated: boolean } | null>(null);
  integrity = $state.raw<StreamIntegrity | null>(null);
  error = $state<string | null>(null);
  private timer: ReturnType<typeof setInterval> | null = null;
  private seq = 0;

  get node(): NodeDto | null {
    const s = this.showing;
    return s ? (s.files[s.index] ?? null) : null;
  }

  get kind(): ViewKind {
    const n = this.node;
    return n ? viewKind(n.name) : 'none';
  }

  /** The picture can be decoded by the webview (else the stored preview is all there is). */
  get decodable(): boolean {
    return DECODED.test(this.node?.name ?? '');
  }

  /** Shows `files[index]` (a file). */
  async show(files: NodeDto[], index: number, link?: string, onmove?: (index: number) => void): Promise<void> {
    if (files[index]?.kind !== 'file') return;
    this.showing = { files, index, link, onmove };
    await this.load();
  }

  close(): void {
    this.seq++;
    this.stopPolling();
    this.showing = null;
    this.stream = null;
    this.reset();
  }

  /** The next (1) or previous (-1) file of the folder. */
  move(step: 1 | -1): void {
    const s = this.showing;
    if (!s) return;
    const to = neighbour(s.files, s.index, step);
    if (to === s.index) return;
    this.showing = { ...s, index: to };
    s.onmove?.(to);
    void this.load();
  }

  private reset(): void {
    this.preview = null;
    this.full = false;
    this.text = null;
    this.integrity = null;
    this.error = null;
  }

  private async load(): Promise<void> {
    const s = this.showing;
    const node = this.node;
    if (!s || !node) return;
    const seq = ++this.seq;
    this.stopPolling();
    this.stream = null;
    this.reset();
    const current = () => seq === this.seq;
    if (this.kind === 'image' && !s.link && node.hasThumbnail) {
      void ipc
        .preview({ handle: node.handle })
        .then((p) => current() && !this.full && (this.preview = p))
        .catch(() => {});
    }
    try {
      const stream = s.link ? await ipc.folderLinkStreamUrl({ link: s.link, handle: node.handle }) : await ipc.streamUrl({ handle: node.handle });
      if (!current()) return;
      this.stream = stream;
      if (this.kind === 'text') {
        const text = await ipc.streamText({ id: stream.id });
        if (current()) this.text = text;
      }
      void this.poll(seq);
      this.timer = setInterval(() => void this.poll(seq), POLL_MS);
    } catch (e) {
      if (current()) this.error = describeError(toIpcError(e));
    }
  }

  private async poll(seq: number): Promise<void> {
    const id = this.stream?.id;
    if (!id) return;
    try {
      const i = await ipc.streamIntegrity({ id });
      if (seq === this.seq) this.integrity = i;
      if (i.verdict !== 'unverified') this.stopPolling();
    } catch {
      this.stopPolling();
    }
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async openExternal(): Promise<void> {
    if (!this.stream) return;
    try {
      await ipc.streamOpenExternal({ id: this.stream.id });
    } catch (e) {
      notify.error(e, 'Open in external player');
    }
  }

  async copyUrl(): Promise<void> {
    if (!this.stream) return;
    try {
      await ipc.copyText(this.stream.url);
      notify.show('Stream URL copied (it works while you are signed in)', 'success', 2500);
    } catch (e) {
      notify.error(e, 'Copy stream URL');
    }
  }

  /** Queues the normal download of the file (verified once complete). */
  async keep(dest: string | null): Promise<void> {
    const s = this.showing;
    const node = this.node;
    if (!s || !node) return;
    try {
      const handles: Handle[] = [node.handle];
      if (s.link) await ipc.folderLinkDownload({ link: s.link, handles, dest: dest ?? (await ipc.settingsGet()).downloadDir });
      else await ipc.download({ handles });
      notify.show(`Downloading ${node.name}`, 'success', 2500);
    } catch (e) {
      notify.error(e, 'Download');
    }
  }
}

export const viewer = new Viewer();
