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
