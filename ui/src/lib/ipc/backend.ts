// The one interface the UI talks to. `tauri.ts` implements it over @tauri-apps/api, `mock.ts`
// with a fake drive in memory. Feature code imports `ipc` from `./index`, never Tauri.
import type {
  Commands,
  LinksOpened,
  LinksRechecked,
  QuotaWaiting,
  Settings,
  TransferEvent,
  TreeChanged,
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

/**
 * The commands come from the generated `Commands` (src-tauri/src/command_list.rs): a command
 * added in Rust is a method here that the mock must implement. Two take a friendlier shape
 * here than on the wire; the rest (events, drag-and-drop, dialogs, clipboard) is the UI's own.
 */
export interface Backend extends Omit<Commands, 'transfersSubscribe' | 'settingsSet'> {
  /** `transfers_subscribe`, with a callback in place of the Channel. */
  transfersSubscribe(onEvent: (e: TransferEvent) => void): ReturnType<Commands['transfersSubscribe']>;
  /** `settings_set`, with the settings themselves. */
  settingsSet(settings: Settings): ReturnType<Commands['settingsSet']>;
  // events
  onSessionExpired(cb: () => void): Promise<Unlisten>;
  onTreeChanged(cb: (e: TreeChanged) => void): Promise<Unlisten>;
  onLinksOpened(cb: (e: LinksOpened) => void): Promise<Unlisten>;
  onLinksRechecked(cb: (e: LinksRechecked) => void): Promise<Unlisten>;
  onQuotaWaiting(cb: (e: QuotaWaiting) => void): Promise<Unlisten>;
  onDragDrop(cb: (e: DropEvent) => void): Promise<Unlisten>;
  // OS dialogs (the dialog plugin); null when the user cancels
  pickPaths(opts: PickOptions): Promise<string[] | null>;
  /** A file to write to (the OS save dialog); null when the user cancels. */
  pickSavePath(opts: { title?: string; defaultPath?: string }): Promise<string | null>;
  /** Puts text on the clipboard (a link, a key, a list of links). */
  copyText(text: string): Promise<void>;
  /** Whether this backend is the in-browser mock. */
  readonly isMock: boolean;
}
