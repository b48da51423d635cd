// Generated from the command table in src-tauri/src/command_list.rs: do not edit.
// `TUATARA_UPDATE_BINDINGS=1 cargo test -p tuatara-app --test app bindings` rewrites it.
import type { Channel } from '@tauri-apps/api/core';
import type { Account } from './Account';
import type { AppInfo } from './AppInfo';
import type { DuplicateMode } from './DuplicateMode';
import type { FolderLinkDto } from './FolderLinkDto';
import type { Handle } from './Handle';
import type { LinkCheck } from './LinkCheck';
import type { LinkDto } from './LinkDto';
import type { ListFormat } from './ListFormat';
import type { Listing } from './Listing';
import type { LoginStep } from './LoginStep';
import type { NodeDto } from './NodeDto';
import type { Properties } from './Properties';
import type { Quota } from './Quota';
import type { ReceivedLink } from './ReceivedLink';
import type { Roots } from './Roots';
import type { Settings } from './Settings';
import type { SharedLinkCheck } from './SharedLinkCheck';
import type { SharedLinkDto } from './SharedLinkDto';
import type { StreamDto } from './StreamDto';
import type { StreamIntegrity } from './StreamIntegrity';
import type { TextPreview } from './TextPreview';
import type { TransferAction } from './TransferAction';
import type { TransferDto } from './TransferDto';
import type { TransferEvent } from './TransferEvent';
import type { WatchDto } from './WatchDto';

/** Every command the UI may call, by its Rust name. */
export const COMMANDS = [
  'app_info',
  'session_restore',
  'login',
  'submit_mfa',
  'open_demo',
  'logout',
  'quota',
  'roots',
  'list_folder',
  'subfolders',
  'search',
  'thumbnail',
  'properties',
  'mkdir',
  'rename',
  'move_nodes',
  'trash',
  'restore',
  'delete_forever',
  'get_link',
  'export_folder_links',
  'link_remove',
  'resolve_duplicates',
  'transfers_subscribe',
  'download',
  'upload',
  'transfer_control',
  'transfers_pause_all',
  'transfers_clear_finished',
  'reveal',
  'links_check',
  'links_unlock',
  'links_download',
  'links_import',
  'folder_link_open',
  'folder_link_download',
  'startup_links',
  'links_save',
  'links_export_save',
  'links_received',
  'links_received_check',
  'links_received_forget',
  'links_shared',
  'links_shared_check',
  'watch_list',
  'watch_add',
  'watch_add_links',
  'watch_pause',
  'watch_remove',
  'settings_get',
  'settings_set',
  'diagnostics_export',
  'stream_url',
  'folder_link_stream_url',
  'stream_integrity',
  'stream_text',
  'stream_read',
  'stream_open_external',
  'preview',
] as const;

/** A command's Rust name. */
export type CommandName = (typeof COMMANDS)[number];

/** Each command as a method: camelCase name, its arguments (camelCase keys), its result. */
export interface Commands {
  /** `app_info` */
  appInfo(): Promise<AppInfo>;
  /** `session_restore` */
  sessionRestore(): Promise<Account | null>;
  /** `login` */
  login(args: { email: string; password: string; remember: boolean; apiUrl?: string }): Promise<LoginStep>;
  /** `submit_mfa` */
  submitMfa(args: { code: string }): Promise<Account>;
  /** `open_demo` */
  openDemo(): Promise<Account>;
  /** `logout` */
  logout(): Promise<void>;
  /** `quota` */
  quota(): Promise<Quota>;
  /** `roots` */
  roots(): Promise<Roots>;
  /** `list_folder` */
  listFolder(args: { handle: Handle }): Promise<Listing>;
  /** `subfolders` */
  subfolders(args: { handle: Handle }): Promise<Array<NodeDto>>;
  /** `search` */
  search(args: { query: string; under?: Handle }): Promise<Array<NodeDto>>;
  /** `thumbnail` */
  thumbnail(args: { handle: Handle }): Promise<string | null>;
  /** `properties` */
  properties(args: { handle: Handle }): Promise<Properties>;
  /** `mkdir` */
  mkdir(args: { parent: Handle; name: string }): Promise<NodeDto>;
  /** `rename` */
  rename(args: { handle: Handle; name: string }): Promise<void>;
  /** `move_nodes` */
  moveNodes(args: { handles: Array<Handle>; target: Handle }): Promise<void>;
  /** `trash` */
  trash(args: { handles: Array<Handle> }): Promise<void>;
  /** `restore` */
  restore(args: { handles: Array<Handle> }): Promise<void>;
  /** `delete_forever` */
  deleteForever(args: { handles: Array<Handle> }): Promise<void>;
  /** `get_link` */
  getLink(args: { handle: Handle; password?: string }): Promise<LinkDto>;
  /** `export_folder_links` */
  exportFolderLinks(args: { handle: Handle }): Promise<Array<string>>;
  /** `link_remove` */
  linkRemove(args: { handle: Handle }): Promise<void>;
  /** `resolve_duplicates` */
  resolveDuplicates(args: { handle: Handle; mode: DuplicateMode }): Promise<void>;
  /** `transfers_subscribe` */
  transfersSubscribe(args: { onEvent: Channel<TransferEvent> }): Promise<Array<TransferDto>>;
  /** `download` */
  download(args: { handles: Array<Handle>; dest?: string }): Promise<Array<string>>;
  /** `upload` */
  upload(args: { paths: Array<string>; parent: Handle }): Promise<Array<string>>;
  /** `transfer_control` */
  transferControl(args: { id: string; action: TransferAction }): Promise<void>;
  /** `transfers_pause_all` */
  transfersPauseAll(args: { paused: boolean }): Promise<void>;
  /** `transfers_clear_finished` */
  transfersClearFinished(): Promise<void>;
  /** `reveal` */
  reveal(args: { id: string }): Promise<void>;
  /** `links_check` */
  linksCheck(args: { text: string; keys?: string; password?: string }): Promise<Array<LinkCheck>>;
  /** `links_unlock` */
  linksUnlock(args: { link: string; password?: string; key?: string }): Promise<LinkCheck>;
  /** `links_download` */
  linksDownload(args: { links: Array<string>; dest: string }): Promise<Array<string>>;
  /** `links_import` */
  linksImport(args: { links: Array<string>; parent: Handle }): Promise<void>;
  /** `folder_link_open` */
  folderLinkOpen(args: { link: string }): Promise<FolderLinkDto>;
  /** `folder_link_download` */
  folderLinkDownload(args: { link: string; handles: Array<Handle>; dest: string }): Promise<Array<string>>;
  /** `startup_links` */
  startupLinks(): Promise<Array<string>>;
  /** `links_save` */
  linksSave(args: { path: string; links: Array<string> }): Promise<void>;
  /** `links_export_save` */
  linksExportSave(args: { handle: Handle; path: string; format: ListFormat; keyFile?: string; password?: string; asFolder: boolean }): Promise<number>;
  /** `links_received` */
  linksReceived(): Promise<Array<ReceivedLink>>;
  /** `links_received_check` */
  linksReceivedCheck(): Promise<Array<ReceivedLink>>;
  /** `links_received_forget` */
  linksReceivedForget(args: { ids: Array<string> }): Promise<void>;
  /** `links_shared` */
  linksShared(): Promise<Array<SharedLinkDto>>;
  /** `links_shared_check` */
  linksSharedCheck(): Promise<Array<SharedLinkCheck>>;
  /** `watch_list` */
  watchList(): Promise<Array<WatchDto>>;
  /** `watch_add` */
  watchAdd(args: { local: string; remote: string; ignore?: Array<string>; trashDeleted?: boolean }): Promise<WatchDto>;
  /** `watch_add_links` */
  watchAddLinks(args: { source: string; dest: string }): Promise<WatchDto>;
  /** `watch_pause` */
  watchPause(args: { id: string; paused: boolean }): Promise<void>;
  /** `watch_remove` */
  watchRemove(args: { id: string }): Promise<void>;
  /** `settings_get` */
  settingsGet(): Promise<Settings>;
  /** `settings_set` */
  settingsSet(args: { settings: Settings }): Promise<void>;
  /** `diagnostics_export` */
  diagnosticsExport(args: { path: string }): Promise<void>;
  /** `stream_url` */
  streamUrl(args: { handle: Handle }): Promise<StreamDto>;
  /** `folder_link_stream_url` */
  folderLinkStreamUrl(args: { link: string; handle: Handle }): Promise<StreamDto>;
  /** `stream_integrity` */
  streamIntegrity(args: { id: string }): Promise<StreamIntegrity>;
  /** `stream_text` */
  streamText(args: { id: string }): Promise<TextPreview>;
  /** `stream_read` */
  streamRead(args: { id: string; offset: number; length: number }): Promise<string>;
  /** `stream_open_external` */
  streamOpenExternal(args: { id: string }): Promise<void>;
  /** `preview` */
  preview(args: { handle: Handle }): Promise<string | null>;
}

/** How the wrappers reach Rust: Tauri's `invoke`, errors mapped (see ../tauri.ts). */
export type Invoke = <T>(command: CommandName, args?: Record<string, unknown>) => Promise<T>;

/** A typed wrapper over `invoke` for every command. */
export function commands(invoke: Invoke): Commands {
  return {
    appInfo: () => invoke<AppInfo>('app_info'),
    sessionRestore: () => invoke<Account | null>('session_restore'),
    login: (args) => invoke<LoginStep>('login', args),
    submitMfa: (args) => invoke<Account>('submit_mfa', args),
    openDemo: () => invoke<Account>('open_demo'),
    logout: () => invoke<void>('logout'),
    quota: () => invoke<Quota>('quota'),
    roots: () => invoke<Roots>('roots'),
    listFolder: (args) => invoke<Listing>('list_folder', args),
    subfolders: (args) => invoke<Array<NodeDto>>('subfolders', args),
    search: (args) => invoke<Array<NodeDto>>('search', args),
    thumbnail: (args) => invoke<string | null>('thumbnail', args),
    properties: (args) => invoke<Properties>('properties', args),
    mkdir: (args) => invoke<NodeDto>('mkdir', args),
    rename: (args) => invoke<void>('rename', args),
    moveNodes: (args) => invoke<void>('move_nodes', args),
    trash: (args) => invoke<void>('trash', args),
    restore: (args) => invoke<void>('restore', args),
    deleteForever: (args) => invoke<void>('delete_forever', args),
    getLink: (args) => invoke<LinkDto>('get_link', args),
    exportFolderLinks: (args) => invoke<Array<string>>('export_folder_links', args),
    linkRemove: (args) => invoke<void>('link_remove', args),
    resolveDuplicates: (args) => invoke<void>('resolve_duplicates', args),
    transfersSubscribe: (args) => invoke<Array<TransferDto>>('transfers_subscribe', args),
    download: (args) => invoke<Array<string>>('download', args),
    upload: (args) => invoke<Array<string>>('upload', args),
    transferControl: (args) => invoke<void>('transfer_control', args),
    transfersPauseAll: (args) => invoke<void>('transfers_pause_all', args),
    transfersClearFinished: () => invoke<void>('transfers_clear_finished'),
    reveal: (args) => invoke<void>('reveal', args),
    linksCheck: (args) => invoke<Array<LinkCheck>>('links_check', args),
    linksUnlock: (args) => invoke<LinkCheck>('links_unlock', args),
    linksDownload: (args) => invoke<Array<string>>('links_download', args),
    linksImport: (args) => invoke<void>('links_import', args),
    folderLinkOpen: (args) => invoke<FolderLinkDto>('folder_link_open', args),
    folderLinkDownload: (args) => invoke<Array<string>>('folder_link_download', args),
    startupLinks: () => invoke<Array<string>>('startup_links'),
    linksSave: (args) => invoke<void>('links_save', args),
    linksExportSave: (args) => invoke<number>('links_export_save', args),
    linksReceived: () => invoke<Array<ReceivedLink>>('links_received'),
    linksReceivedCheck: () => invoke<Array<ReceivedLink>>('links_received_check'),
    linksReceivedForget: (args) => invoke<void>('links_received_forget', args),
    linksShared: () => invoke<Array<SharedLinkDto>>('links_shared'),
    linksSharedCheck: () => invoke<Array<SharedLinkCheck>>('links_shared_check'),
    watchList: () => invoke<Array<WatchDto>>('watch_list'),
    watchAdd: (args) => invoke<WatchDto>('watch_add', args),
    watchAddLinks: (args) => invoke<WatchDto>('watch_add_links', args),
    watchPause: (args) => invoke<void>('watch_pause', args),
    watchRemove: (args) => invoke<void>('watch_remove', args),
    settingsGet: () => invoke<Settings>('settings_get'),
    settingsSet: (args) => invoke<void>('settings_set', args),
    diagnosticsExport: (args) => invoke<void>('diagnostics_export', args),
    streamUrl: (args) => invoke<StreamDto>('stream_url', args),
    folderLinkStreamUrl: (args) => invoke<StreamDto>('folder_link_stream_url', args),
    streamIntegrity: (args) => invoke<StreamIntegrity>('stream_integrity', args),
    streamText: (args) => invoke<TextPreview>('stream_text', args),
    streamRead: (args) => invoke<string>('stream_read', args),
    streamOpenExternal: (args) => invoke<void>('stream_open_external', args),
    preview: (args) => invoke<string | null>('preview', args),
  };
}
