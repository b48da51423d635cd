// Storage and transfer quota, and the banner that counts down while the transfer quota is out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import QuotaBanner from '../lib/components/quota/QuotaBanner.svelte';
import QuotaMeters from '../lib/components/quota/QuotaMeters.svelte';
import Shell from '../lib/components/Shell.svelte';
import { quota } from '../lib/stores/quota.svelte';
import { transfers } from '../lib/stores/transfers.svelte';
import { useMock } from './helpers';

afterEach(() => {
  cleanup();
  quota.stop();
  quota.dismiss();
  vi.useRealTimers();
});

describe('quota', () => {
  it('counts down live and goes away when the quota is back', async () => {
    vi.useFakeTimers();
    useMock();
    render(QuotaBanner);
    quota.wait(125);
    await tick();
    expect(screen.getByTestId('quota-banner').textContent).toMatch(/2:05/);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(screen.getByTestId('quota-banner').textContent).toMatch(/2:00/);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(screen.getByTestId('quota-banner').textContent).toMatch(/0:59/);
    await vi.advanceTimersByTimeAsync(60_000);
    await tick();
    expect(screen.queryByTestId('quota-banner')).toBeNull();
  });

  it('shows both meters, and the transfer meter counts down while waiting', async () => {
    useMock({ quotaWait: 720, signedIn: true });
    render(QuotaMeters);
    await quota.refresh();
    await tick();
    expect(screen.getByTestId('quota-storage').textContent).toMatch(/13\.3 GB of 20\.0 GB/);
    expect(screen.getByTestId('quota-transfer').textContent).toMatch(/back in 1[12]:\d\d/);
  });

  it('follows the transfer meter while bytes move, at most every 5 s', async () => {
    vi.useFakeTimers();
    const m = useMock({ signedIn: true });
    let calls = 0;
    const real = m.quota;
    m.quota = () => {
      calls++;
      return real();
    };
    quota.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    // progress for 12 s, several events a second: a refresh at 5 s and at 10 s, not one per event
    for (let t = 0; t < 12_000; t += 250) {
      transfers.apply({ event: 'progress', data: { id: 'x', done: t, speed: 1, eta: null } });
      await vi.advanceTimersByTimeAsync(250);
    }
    expect(calls).toBe(3);
    // the end: one more after the last bytes, then nothing until the minute's poll
    transfers.apply({ event: 'progress', data: { id: 'x', done: 12_000, speed: 1, eta: null } });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toBe(4);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toBe(4);
  });

  it('opens the banner on quota://waiting', async () => {
    const m = useMock({ signedIn: true });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    expect(screen.queryByTestId('quota-banner')).toBeNull();
    m.emitQuotaWaiting({ seconds: 600 });
    await tick();
    expect(screen.getByTestId('quota-banner').textContent).toMatch(/10:00|9:59/);
  });
});
