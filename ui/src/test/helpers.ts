// Shared test setup: a fresh mock backend per test, and a way to let promises settle.
import { setBackend } from '../lib/ipc';
import { mockBackend, type MockBackend, type MockOptions } from '../lib/ipc/mock';

export function useMock(opts: MockOptions = {}): MockBackend {
  const m = mockBackend({ latency: 0, tickMs: 0, bigFolderSize: 500, ...opts });
  setBackend(m);
  return m;
}

/** Lets pending promises and zero-delay timers run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

/**
 * Answers Tauri IPC (for `mockIPC`) from a mock backend, so the real adapter runs against the
 * fake drive: each snake_case command goes to the mock's camelCase method.
 */
export function ipcRouter(m: MockBackend): (cmd: string, args?: unknown) => unknown {
  const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return (cmd, args) => {
    if (cmd.startsWith('plugin:')) return null;
    if (cmd === 'transfers_subscribe') return [];
    if (cmd === 'settings_set') return m.settingsSet((args as { settings: never }).settings);
    const f = (m as unknown as Record<string, (a?: unknown) => unknown>)[camel(cmd)];
    if (typeof f !== 'function') throw new Error(`no mock for ${cmd}`);
    return f.call(m, args);
  };
}
