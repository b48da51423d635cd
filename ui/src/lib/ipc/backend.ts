// The one interface the UI talks to. `tauri.ts` implements it over @tauri-apps/api, `mock.ts`
// with a fake drive in memory. Feature code imports `ipc` from `./index`, never Tauri.
import type {
  Account,
  AppInfo,
  DuplicateMode,
  FolderLinkDto,
  Handle,
  LinkCheck,
  LinkDto,
  Listing,
  LinksOpened,
  LoginStep,
  NodeDto,
  Properties,
  Quota,
  QuotaWaiting,
  Roots,
  Settings,
  TransferAction,
  TransferDto,
  TransferEvent,
  TreeChanged,
  WatchDto,
} from './types';

export type Unlisten = () => void;

/** An OS drag-and-drop over the window; positions are physical pixels, as Tauri sends them. */
export type DropEvent =
  | { type: 'enter'; paths: string[]; position: { x: number; y: number } }
  | { type: 'over'; position: { x: number; y: number } }
  | { type: 'drop'; paths: string[]; position: { x: number; y: number } }
  | { type: 'leave' };

export interface PickOptions {
  directory: boolean;
  multiple: boolean;
  title?: string;
}

export interface Backend {
  // session
  appInfo(): Promise<AppInfo>;
  sessionRestore(): Promise<Account | null>;
  login(args: { email: string; password: string; remember: boolean; apiUrl?: string }): Promise<LoginStep>;
  submitMfa(args: { code: string }): Promise<Account>;
  openDemo(): Promise<Account>;
  logout(): Promise<void>;
  // drive
  quota(): Promise<Quota>;
  roots(): Promise<Roots>;
  listFolder(args: { handle: Handle }): Promise<Listing>;
  subfolders(args: { handle: Handle }): Promise<NodeDto[]>;
  search(args: { query: string; under?: Handle }): Promise<NodeDto[]>;
  thumbnail(args: { handle: Handle }): Promise<string | null>;
  properties(args: { handle: Handle }): Promise<Properties>;
  mkdir(args: { parent: Handle; name: string }): Promise<NodeDto>;
  rename(args: { handle: Handle; name: string }): Promise<void>;
  moveNodes(args: { handles: Handle[]; target: Handle }): Promise<void>;
  trash(args: { handles: Handle[] }): Promise<void>;
  restore(args: { handles: Handle[] }): Promise<void>;
  deleteForever(args: { handles: Handle[] }): Promise<void>;
  getLink(args: { handle: Handle; password?: string }): Promise<LinkDto>;
  exportFolderLinks(args: { handle: Handle }): Promise<string[]>;
  resolveDuplicates(args: { handle: Handle; mode: DuplicateMode }): Promise<void>;
  // transfers
  transfersSubscribe(onEvent: (e: TransferEvent) => void): Promise<TransferDto[]>;
  download(args: { handles: Handle[]; dest?: string }): Promise<string[]>;
  upload(args: { paths: string[]; parent: Handle }): Promise<string[]>;
  transferControl(args: { id: string; action: TransferAction }): Promise<void>;
  transfersPauseAll(args: { paused: boolean }): Promise<void>;
  transfersClearFinished(): Promise<void>;
  reveal(args: { id: string }): Promise<void>;
  // links
  linksCheck(args: { text: string }): Promise<LinkCheck[]>;
  linksUnlock(args: { link: string; password?: string; key?: string }): Promise<LinkCheck>;
  linksDownload(args: { links: string[]; dest: string }): Promise<string[]>;
  linksImport(args: { links: string[]; parent: Handle }): Promise<void>;
  folderLinkOpen(args: { link: string }): Promise<FolderLinkDto>;
  folderLinkDownload(args: { link: string; handles: Handle[]; dest: string }): Promise<string[]>;
  // watched folders
  watchList(): Promise<WatchDto[]>;
  watchAdd(args: { local: string; remote: string; ignore?: string[]; trashDeleted?: boolean }): Promise<WatchDto>;
  watchAddLinks(args: { source: string; dest: string }): Promise<WatchDto>;
  watchPause(args: { id: string; paused: boolean }): Promise<void>;
  watchRemove(args: { id: string }): Promise<void>;
  // settings
  settingsGet(): Promise<Settings>;
  settingsSet(settings: Settings): Promise<void>;
  // events
  onSessionExpired(cb: () => void): Promise<Unlisten>;
  onTreeChanged(cb: (e: TreeChanged) => void): Promise<Unlisten>;
  onLinksOpened(cb: (e: LinksOpened) => void): Promise<Unlisten>;
  onQuotaWaiting(cb: (e: QuotaWaiting) => void): Promise<Unlisten>;
  onDragDrop(cb: (e: DropEvent) => void): Promise<Unlisten>;
  // OS dialogs (the dialog plugin); null when the user cancels
  pickPaths(opts: PickOptions): Promise<string[] | null>;
  /** Puts text on the clipboard (a link, a key, a list of links). */
  copyText(text: string): Promise<void>;
  /** Links the app was launched with (`mega:` deep links), if any. */
  startupLinks(): Promise<string[]>;
  /** Whether this backend is the in-browser mock. */
  readonly isMock: boolean;
}
