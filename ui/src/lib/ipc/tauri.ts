// The real backend: the generated command wrappers (./bindings/commands.ts) over `invoke`, a
// Channel for transfers, `listen` for app events and the webview's drag-and-drop. The only
// module of the UI that imports @tauri-apps/*.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { open, save } from '@tauri-apps/plugin-dialog';
import { writeText } from '@tauri-apps/plugin-clipboard-manager';
import type { Backend, DropEvent, Unlisten } from './backend';
import { commands, type CommandName } from './bindings/commands';
import { toIpcError } from './errors';
import type { TransferEvent } from './types';

async function call<T>(cmd: CommandName, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

async function on<T>(event: string, cb: (payload: T) => void): Promise<Unlisten> {
  return listen<T>(event, (e) => cb(e.payload));
}

export function tauriBackend(): Backend {
  const wire = commands(call);
  return {
    isMock: false,
    ...wire,
    transfersSubscribe: (onEvent) => {
      const channel = new Channel<TransferEvent>();
      channel.onmessage = onEvent;
      return wire.transfersSubscribe({ onEvent: channel });
    },
    settingsSet: (settings) => wire.settingsSet({ settings }),
    onSessionExpired: (cb) => on('session://expired', () => cb()),
    onTreeChanged: (cb) => on('tree://changed', cb),
    onLinksOpened: (cb) => on('links://opened', cb),
    onLinksRechecked: (cb) => on('links://rechecked', cb),
    onQuotaWaiting: (cb) => on('quota://waiting', cb),
    onDragDrop: (cb) =>
      getCurrentWebview().onDragDropEvent((e) => {
        const p = e.payload;
        const ev: DropEvent =
          p.type === 'leave'
            ? { type: 'leave' }
            : p.type === 'over'
              ? { type: 'over', position: { x: p.position.x, y: p.position.y } }
              : { type: p.type, paths: p.paths, position: { x: p.position.x, y: p.position.y } };
        cb(ev);
      }),
    pickPaths: async (opts) => {
      const picked = await open({ directory: opts.directory, multiple: opts.multiple, title: opts.title });
      if (picked === null) return null;
      return Array.isArray(picked) ? picked : [picked];
    },
    pickSavePath: (opts) => save({ title: opts.title, defaultPath: opts.defaultPath }),
    copyText: (text) => writeText(text),
  };
}
