// Picks the backend: Tauri inside the app, the mock drive in a plain browser (`npm run dev`, or
// a `npm run build:mock` preview) and in tests. The app's own build (`vite build`, production
// mode) has no mock: `mockAllowed` is false there at build time, so the mock is left out of the
// bundle and the app always talks to Rust. Feature code imports `ipc` from here and nothing
// from @tauri-apps.
import type { Backend } from './backend';
import { mockBackend } from './mock';
import { tauriBackend } from './tauri';

export type { Backend, DropEvent, PickOptions, Unlisten } from './backend';
export * from './types';
export { describeError, ipcError, isIpcError, toIpcError } from './errors';

function inTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

const mockAllowed = import.meta.env.DEV || import.meta.env.MODE === 'mock';

let current: Backend | null = null;

export function backend(): Backend {
  current ??= mockAllowed && !inTauri() ? mockBackend() : tauriBackend();
  return current;
}

/** Tests swap the backend (a fresh mock, or the Tauri one over mockIPC). */
export function setBackend(b: Backend | null): void {
  current = b;
}

/** The backend, resolved on each call so a test can swap it. */
export const ipc: Backend = new Proxy({} as Backend, {
  get(_t, prop) {
    const b = backend() as unknown as Record<string | symbol, unknown>;
    const v = b[prop];
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(b) : v;
  },
});
