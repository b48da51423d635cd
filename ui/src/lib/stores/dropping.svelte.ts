// OS drag-and-drop onto the window: an overlay while files hover, and on drop an upload into
// the folder row (or sidebar folder) under the pointer, else into the folder on screen.
import type { DropEvent, Handle } from '../ipc';
import { upload } from './actions';
import { drive } from './drive.svelte';
import { notify } from './notify.svelte';

export interface DropTarget {
  handle: Handle;
  name: string;
}

/**
 * The folder under a drop position. Tauri sends physical pixels; the DOM wants CSS pixels,
 * so divide by devicePixelRatio. Elements marked `data-drop-folder` accept drops.
 */
export function folderAt(position: { x: number; y: number }, dpr = window.devicePixelRatio || 1): DropTarget | null {
  const x = position.x / dpr;
  const y = position.y / dpr;
  const stack = typeof document.elementsFromPoint === 'function' ? document.elementsFromPoint(x, y) : [];
  for (const el of stack) {
    const target = (el as HTMLElement).closest?.('[data-drop-folder]') as HTMLElement | null;
    if (target?.dataset.dropFolder) return { handle: target.dataset.dropFolder, name: target.dataset.dropName ?? '' };
  }
  return null;
}

class Dropping {
  active = $state(false);
  count = $state(0);
  over = $state<DropTarget | null>(null);

  /** Where a drop right now would go: the folder under the pointer or the one on screen. */
  readonly destination = $derived(this.over ?? (drive.writable && drive.folder ? { handle: drive.folder.handle, name: drive.folder.name } : null));

  handle(e: DropEvent): void {
    switch (e.type) {
      case 'enter':
        this.active = true;
        this.count = e.paths.length;
        this.over = folderAt(e.position);
        break;
      case 'over':
        this.active = true;
        this.over = folderAt(e.position);
        break;
      case 'leave':
        this.active = false;
        this.over = null;
        break;
      case 'drop': {
        const target = folderAt(e.position) ?? this.destinationNow();
        this.active = false;
        this.over = null;
        if (!e.paths.length) return;
        if (!target) return void notify.show('Open a folder of your cloud drive, or drop onto a folder, to upload', 'info');
        void upload(e.paths, target.handle);
        break;
      }
    }
  }

  private destinationNow(): DropTarget | null {
    return drive.writable && drive.folder ? { handle: drive.folder.handle, name: drive.folder.name } : null;
  }
}

export const dropping = new Dropping();
