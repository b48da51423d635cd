// The real backend: Tauri commands, a Channel for transfers, `listen` for app events and the
// webview's drag-and-drop. The only module of the UI that imports @tauri-apps/*.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { open } from '@tauri-apps/plugin-dialog';
import { writeText } from '@tauri-apps/plugin-clipboard-manager';
import { getCurrent } from '@tauri-apps/plugin-deep-link';
import type { Backend, DropEvent, Unlisten } from './backend';
import { toIpcError } from './errors';
import type { TransferEvent } from './types';

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
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
  return {
    isMock: false,
    appInfo: () => call('app_info'),
    sessionRestore: () => call('session_restore'),
    login: (a) => call('login', a),
    submitMfa: (a) => call('submit_mfa', a),
    openDemo: () => call('open_demo'),
    logout: () => call('logout'),
    quota: () => call('quota'),
    roots: () => call('roots'),
    listFolder: (a) => call('list_folder', a),
    subfolders: (a) => call('subfolders', a),
    search: (a) => call('search', a),
    thumbnail: (a) => call('thumbnail', a),
    properties: (a) => call('properties', a),
    mkdir: (a) => call('mkdir', a),
    rename: (a) => call('rename', a),
    moveNodes: (a) => call('move_nodes', a),
    trash: (a) => call('trash', a),
    restore: (a) => call('restore', a),
    deleteForever: (a) => call('delete_forever', a),
    getLink: (a) => call('get_link', a),
    exportFolderLinks: (a) => call('export_folder_links', a),
    resolveDuplicates: (a) => call('resolve_duplicates', a),
    transfersSubscribe: (onEvent) => {
      const channel = new Channel<TransferEvent>();
      channel.onmessage = onEvent;
      return call('transfers_subscribe', { onEvent: channel });
    },
    download: (a) => call('download', a),
    upload: (a) => call('upload', a),
    transferControl: (a) => call('transfer_control', a),
    transfersPauseAll: (a) => call('transfers_pause_all', a),
    transfersClearFinished: () => call('transfers_clear_finished'),
    reveal: (a) => call('reveal', a),
    linksCheck: (a) => call('links_check', a),
    linksUnlock: (a) => call('links_unlock', a),
    linksDownload: (a) => call('links_download', a),
    linksImport: (a) => call('links_import', a),
    folderLinkOpen: (a) => call('folder_link_open', a),
    folderLinkDownload: (a) => call('folder_link_download', a),
    watchList: () => call('watch_list'),
    watchAdd: (a) => call('watch_add', a),
    watchAddLinks: (a) => call('watch_add_links', a),
    watchPause: (a) => call('watch_pause', a),
    watchRemove: (a) => call('watch_remove', a),
    settingsGet: () => call('settings_get'),
    settingsSet: (settings) => call('settings_set', { settings }),
    onSessionExpired: (cb) => on('session://expired', () => cb()),
    onTreeChanged: (cb) => on('tree://changed', cb),
    onLinksOpened: (cb) => on('links://opened', cb),
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
    copyText: (text) => writeText(text),
    startupLinks: async () => (await getCurrent().catch(() => null)) ?? [],
  };
}
