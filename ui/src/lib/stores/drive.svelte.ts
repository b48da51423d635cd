// The file browser's state: where we are, the listing sorted once and filtered, the selection,
// and a search view. Node operations live in ./actions.ts.
import { ipc, type Handle, type Listing, type NodeDto, type Roots } from '../ipc';
import { notify } from './notify.svelte';
import { tree } from './tree.svelte';
import { clickRow, emptySelection, moveFocus, selectAll, type Mods, type SelectionState } from './selection';
import { filterNodes, sortNodes, type Sort, type SortKey } from './sorting';

export type Section = 'cloud' | 'rubbish' | 'share';

class Drive {
  roots = $state.raw<Roots | null>(null);
  listing = $state.raw<Listing | null>(null);
  /** results of a drive-wide search, shown instead of the folder while set */
  results = $state.raw<NodeDto[] | null>(null);
  searchQuery = $state('');
  loading = $state(false);
  sort = $state<Sort>({ key: 'name', dir: 1 });
  filter = $state('');
  sel = $state.raw<SelectionState>(emptySelection());
  /** how long the last listing took to fetch and sort, in ms (shown in the status bar) */
  lastOpenMs = $state(0);
  private seq = 0;

  readonly sorted = $derived(sortNodes(this.results ?? this.listing?.children ?? [], this.sort));
  readonly rows = $derived(filterNodes(this.sorted, this.filter));
  readonly keys = $derived(this.rows.map((n) => n.handle));
  readonly selectedNodes = $derived(this.rows.filter((n) => this.sel.selected.has(n.handle)));
  readonly duplicates = $derived(this.results ? 0 : (this.listing?.children.filter((n) => n.duplicate).length ?? 0));

  get folder(): NodeDto | null {
    return this.listing?.folder ?? null;
  }

  readonly section: Section = $derived.by(() => {
    const top = this.listing?.path[0]?.handle;
    if (!top || !this.roots) return 'cloud';
    if (top === this.roots.rubbish.handle) return 'rubbish';
    if (top === this.roots.cloud.handle) return 'cloud';
    return 'share';
  });

  /** Read-only places: the rubbish bin and incoming shares accept no uploads or new folders. */
  readonly writable = $derived(this.section === 'cloud' && !this.results);

  /** Forgets everything (sign-out, another account). */
  reset(): void {
    this.seq++;
    this.roots = null;
    this.listing = null;
    this.results = null;
    this.searchQuery = '';
    this.filter = '';
    this.sel = emptySelection();
    this.loading = false;
  }

  async start(): Promise<void> {
    try {
      this.roots = await ipc.roots();
      await Promise.all([this.open(this.roots.cloud.handle), tree.expand(this.roots.cloud.handle)]);
    } catch (e) {
      notify.error(e, 'Loading the drive');
    }
  }

  async open(handle: Handle, focusName?: string): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    const t0 = performance.now();
    try {
      const listing = await ipc.listFolder({ handle });
      if (seq !== this.seq) return;
      const changedFolder = this.listing?.folder.handle !== handle;
      this.results = null;
      this.searchQuery = '';
      if (changedFolder) this.filter = '';
      this.listing = listing;
      const idx = focusName ? this.rows.findIndex((n) => n.name === focusName) : -1;
      this.sel = changedFolder || idx >= 0 ? { selected: new Set(idx >= 0 ? [this.keys[idx]] : []), anchor: idx, focus: idx } : this.keep(this.sel);
      this.lastOpenMs = Math.round(performance.now() - t0);
      // the sidebar tree shows where we are
      for (const p of listing.path.slice(0, -1)) void tree.expand(p.handle);
    } catch (e) {
      if (seq === this.seq) notify.error(e, 'Opening the folder');
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  /** After a refresh: keep what is still there selected. */
  private keep(s: SelectionState): SelectionState {
    const keys = new Set(this.keys);
    const selected = new Set([...s.selected].filter((k) => keys.has(k)));
    const focus = Math.min(s.focus, this.keys.length - 1);
    return { selected, anchor: Math.min(s.anchor, this.keys.length - 1), focus };
  }

  async refresh(): Promise<void> {
    if (this.listing) await this.open(this.listing.folder.handle);
  }

  /** `tree://changed`: refresh if the shown folder is among them. */
  async changed(folders: Handle[]): Promise<void> {
    void tree.changed(folders);
    if (this.roots && folders.some((f) => f === this.roots!.rubbish.handle || f === this.roots!.cloud.handle)) {
      this.roots = await ipc.roots().catch(() => this.roots);
    }
    if (this.listing && !this.results && folders.includes(this.listing.folder.handle)) await this.refresh();
  }

  async up(): Promise<void> {
    if (this.results) return this.clearSearch();
    const path = this.listing?.path;
    if (path && path.length > 1) await this.open(path[path.length - 2].handle, path[path.length - 1].name);
  }

  async search(query: string): Promise<void> {
    const q = query.trim();
    if (!q) return this.clearSearch();
    this.loading = true;
    try {
      const under = this.section === 'cloud' ? this.roots?.cloud.handle : this.listing?.folder.handle;
      this.results = await ipc.search({ query: q, under });
      this.searchQuery = q;
      this.filter = '';
      this.sel = emptySelection();
    } catch (e) {
      notify.error(e, 'Search');
    } finally {
      this.loading = false;
    }
  }

  clearSearch(): void {
    this.results = null;
    this.searchQuery = '';
    this.sel = emptySelection();
  }

  setSort(key: SortKey): void {
    this.sort = this.sort.key === key ? { key, dir: this.sort.dir === 1 ? -1 : 1 } : { key, dir: key === 'name' || key === 'type' ? 1 : -1 };
  }

  setFilter(f: string): void {
    this.filter = f;
    this.sel = emptySelection();
  }

  click(index: number, mods: Mods): void {
    this.sel = clickRow(this.sel, this.keys, index, mods);
  }

  /** A right-click keeps a selection that includes the row, else selects just the row. */
  contextSelect(index: number): void {
    if (!this.sel.selected.has(this.keys[index])) this.sel = clickRow(this.sel, this.keys, index, {});
  }

  focusTo(index: number, shift = false): void {
    this.sel = moveFocus(this.sel, this.keys, index, shift);
  }

  selectAll(): void {
    this.sel = selectAll(this.keys, this.sel);
  }

  clearSelection(): void {
    this.sel = emptySelection();
  }

  get focused(): NodeDto | null {
    return this.rows[this.sel.focus] ?? null;
  }

  /** Enter or double-click: folders open; files download. */
  async activate(node: NodeDto): Promise<void> {
    if (node.kind === 'folder') return this.open(node.handle);
    try {
      await ipc.download({ handles: [node.handle] });
      notify.show(`Downloading ${node.name}`, 'success', 2500);
    } catch (e) {
      notify.error(e, 'Download');
    }
  }
}

export const drive = new Drive();
