// The links dialog: paste or open text, check every link, unlock `#P!` and key-less links,
// then download or import; a folder link opens in a browser with checkboxes.
import { ipc, toIpcError, type FolderLinkDto, type Handle, type LinkCheck } from '../ipc';
import { notify } from './notify.svelte';

export interface FolderBrowse {
  dto: FolderLinkDto;
  picked: Set<Handle>;
  at: Handle;
}

class Links {
  open = $state(false);
  text = $state('');
  /** A key file's text (`HANDLE KEY` a line) for links that came without their keys. */
  keys = $state('');
  /** The password of the batch's `#P!` links (asked once for all of them). */
  password = $state('');
  checks = $state<LinkCheck[]>([]);
  checking = $state(false);
  checked = $state(false);
  dest = $state('');
  /** per link: an error from the last unlock attempt */
  unlockError = $state<Record<string, string>>({});
  browse = $state<FolderBrowse | null>(null);

  readonly ready = $derived(this.checks.filter((c) => c.status === 'alive'));
  readonly totalSize = $derived(this.ready.reduce((s, c) => s + (c.size ?? 0), 0));

  show(text = ''): void {
    this.open = true;
    this.browse = null;
    if (text) {
      this.text = text;
      void this.check();
    }
  }

  close(): void {
    this.open = false;
    this.browse = null;
  }

  reset(): void {
    this.text = '';
    this.keys = '';
    this.password = '';
    this.checks = [];
    this.checked = false;
    this.unlockError = {};
  }

  async check(): Promise<void> {
    this.checking = true;
    try {
      const checks = await ipc.linksCheck({ text: this.text, keys: this.keys.trim() || undefined, password: this.password || undefined });
      // Two `#P!` links of one file open to the same link: shown once.
      this.checks = checks.filter((c, i) => checks.findIndex((x) => x.link === c.link) === i);
      this.checked = true;
      this.unlockError = {};
    } catch (e) {
      notify.error(e, 'Checking links');
    } finally {
      this.checking = false;
    }
  }

  /** Checks the batch again with its password: every `#P!` link it opens is ready. */
  async unlockAll(): Promise<void> {
    await this.check();
    const still = this.checks.filter((c) => c.status === 'needsPassword').length;
    if (still) notify.show(still === this.checks.length ? 'Wrong password' : `${still} link${still === 1 ? '' : 's'} did not open with that password`, 'error');
  }

  async unlock(link: string, secret: string, as: 'password' | 'key'): Promise<void> {
    try {
      const c = await ipc.linksUnlock(as === 'password' ? { link, password: secret } : { link, key: secret.replace(/^#/, '') });
      this.checks = this.checks.map((x) => (x.link === link ? c : x));
      const { [link]: _, ...rest } = this.unlockError;
      this.unlockError = rest;
    } catch (e) {
      const err = toIpcError(e);
      const text = err.kind === 'auth' || err.kind === 'needsPassword' ? 'Wrong password' : err.kind === 'crypto' || err.kind === 'badLink' ? 'That key does not open this link' : err.message || 'Could not unlock';
      this.unlockError = { ...this.unlockError, [link]: text };
    }
  }

  async pickDest(): Promise<void> {
    const p = await ipc.pickPaths({ directory: true, multiple: false, title: 'Download to' }).catch((e) => (notify.error(e), null));
    if (p?.[0]) this.dest = p[0];
  }

  async downloadAll(): Promise<boolean> {
    const links = this.ready.map((c) => c.link);
    if (!links.length) return false;
    try {
      const ids = await ipc.linksDownload({ links, dest: this.dest });
      notify.show(`${ids.length} download${ids.length === 1 ? '' : 's'} queued`, 'success');
      return true;
    } catch (e) {
      notify.error(e, 'Download');
      return false;
    }
  }

  async importAll(parent: Handle): Promise<boolean> {
    const links = this.ready.map((c) => c.link);
    if (!links.length) return false;
    try {
      await ipc.linksImport({ links, parent });
      notify.show(`Imported ${links.length} item${links.length === 1 ? '' : 's'} into your drive`, 'success');
      return true;
    } catch (e) {
      notify.error(e, 'Import');
      return false;
    }
  }

  async openFolder(link: string): Promise<void> {
    try {
      const dto = await ipc.folderLinkOpen({ link });
      this.browse = { dto, picked: new Set(dto.nodes.filter((n) => n.kind === 'file').map((n) => n.handle)), at: dto.root.handle };
    } catch (e) {
      notify.error(e, 'Opening the folder link');
    }
  }

  async downloadPicked(): Promise<boolean> {
    const b = this.browse;
    if (!b || !b.picked.size) return false;
    try {
      const ids = await ipc.folderLinkDownload({ link: b.dto.link, handles: [...b.picked], dest: this.dest });
      notify.show(`${ids.length} download${ids.length === 1 ? '' : 's'} queued`, 'success');
      this.browse = null;
      return true;
    } catch (e) {
      notify.error(e, 'Download');
      return false;
    }
  }
}

export const links = new Links();
