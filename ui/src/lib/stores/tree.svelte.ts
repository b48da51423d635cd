// The sidebar's folder tree: children fetched when a folder is first expanded.
import { ipc, type Handle, type NodeDto } from '../ipc';
import { notify } from './notify.svelte';

class Tree {
  expanded = $state<Record<Handle, boolean>>({});
  children = $state.raw<Record<Handle, NodeDto[]>>({});
  loading = $state<Record<Handle, boolean>>({});

  reset(): void {
    this.expanded = {};
    this.children = {};
    this.loading = {};
  }

  async load(handle: Handle): Promise<void> {
    this.loading[handle] = true;
    try {
      const kids = await ipc.subfolders({ handle });
      kids.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
      this.children = { ...this.children, [handle]: kids };
    } catch (e) {
      notify.error(e, 'Folder tree');
    } finally {
      this.loading[handle] = false;
    }
  }

  async toggle(handle: Handle): Promise<void> {
    const open = !this.expanded[handle];
    this.expanded[handle] = open;
    if (open && !this.children[handle]) await this.load(handle);
  }

  async expand(handle: Handle): Promise<void> {
    if (!this.expanded[handle]) await this.toggle(handle);
  }

  /** `tree://changed`: reload the children of expanded folders among them. */
  async changed(folders: Handle[]): Promise<void> {
    await Promise.all(folders.filter((f) => this.children[f]).map((f) => this.load(f)));
  }
}

export const tree = new Tree();
