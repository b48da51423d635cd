// The IPC DTOs, written by hand exactly as docs/IPC.md says. They will be replaced by
// re-exports of the ts-rs bindings in ./bindings/ once src-tauri generates them; the names
// stay the same.

export type Handle = string;

export type ErrorKind =
  | 'auth'
  | 'mfaRequired'
  | 'notSignedIn'
  | 'notFound'
  | 'exists'
  | 'badLink'
  | 'needsPassword'
  | 'quota'
  | 'network'
  | 'io'
  | 'crypto'
  | 'invalid'
  | 'internal';

export interface IpcError {
  kind: ErrorKind;
  message: string;
  retryable: boolean;
}

export interface AppInfo {
  version: string;
  defaultApiUrl: string;
  demoAvailable: boolean;
}

export interface Account {
  email: string;
  name: string;
  apiUrl: string;
  demo: boolean;
  remembered: boolean;
}

export type LoginStep = { step: 'signedIn'; account: Account } | { step: 'needsMfa' };

export interface Quota {
  storageUsed: number;
  storageTotal: number;
  transferUsed: number;
  transferTotal: number;
  transferWaitSeconds: number | null;
}

export interface NodeDto {
  handle: Handle;
  parent: Handle | null;
  name: string;
  kind: 'file' | 'folder';
  size: number;
  mtime: number;
  hasThumbnail: boolean;
  duplicate: boolean;
  exported: boolean;
  shared: boolean;
  inRubbish: boolean;
  hasSubfolders: boolean;
}

export interface Roots {
  cloud: NodeDto;
  rubbish: NodeDto;
  shares: NodeDto[];
}

export interface Listing {
  folder: NodeDto;
  path: NodeDto[];
  children: NodeDto[];
}

export interface Properties {
  node: NodeDto;
  path: string;
  files: number;
  folders: number;
  totalSize: number;
  link: string | null;
}

export interface LinkDto {
  link: string;
  linkWithoutKey: string;
  key: string;
}

export type DuplicateMode = 'rename' | 'newest' | 'oldest' | 'largest';

export type TransferState =
  | 'queued'
  | 'active'
  | 'paused'
  | 'waiting'
  | 'retrying'
  | 'failed'
  | 'done'
  | 'cancelled';

export interface TransferDto {
  id: string;
  direction: 'download' | 'upload';
  name: string;
  size: number;
  done: number;
  speed: number;
  eta: number | null;
  state: TransferState;
  reason: string | null;
  until: number | null;
  errorKind: string | null;
  path: string | null;
}

export interface TransferProgress {
  id: string;
  done: number;
  speed: number;
  eta: number | null;
}

export interface TransferStateChange {
  id: string;
  state: TransferState;
  reason: string | null;
  until: number | null;
  errorKind: string | null;
}

export type TransferEvent =
  | { event: 'snapshot'; data: TransferDto }
  | { event: 'progress'; data: TransferProgress }
  | { event: 'state'; data: TransferStateChange }
  | { event: 'removed'; data: { id: string } };

export type TransferAction = 'pause' | 'resume' | 'cancel' | 'retry' | 'top';

export type LinkStatus = 'alive' | 'removed' | 'blocked' | 'needsPassword' | 'needsKey' | 'bad';

export interface LinkCheck {
  link: string;
  kind: 'file' | 'folder';
  status: LinkStatus;
  name: string | null;
  size: number | null;
  message: string | null;
}

export interface FolderLinkDto {
  link: string;
  root: NodeDto;
  nodes: NodeDto[];
}

export interface WatchDto {
  id: string;
  kind: 'upload' | 'links';
  local: string;
  remote: string;
  paused: boolean;
  lastActivity: number | null;
  error: string | null;
  uploaded: number;
}

export interface SpeedWindow {
  from: string;
  to: string;
  downloadLimit: number | null;
  uploadLimit: number | null;
}

export interface Settings {
  downloadDir: string;
  connections: number;
  maxFilesAtOnce: number;
  downloadLimit: number | null;
  uploadLimit: number | null;
  schedule: SpeedWindow[];
  useHttps: boolean;
  notifications: boolean;
  watchClipboard: boolean;
}

/** Event payloads of docs/IPC.md's `listen` events. */
export interface TreeChanged {
  folders: Handle[];
}
export interface LinksOpened {
  text: string;
}
export interface QuotaWaiting {
  seconds: number;
}
