// Storage and transfer quota, and the banner that counts down while the transfer quota is out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import QuotaBanner from '../lib/components/quota/QuotaBanner.svelte';
import QuotaMeters from '../lib/components/quota/QuotaMeters.svelte';
import Shell from '../lib/components/Shell.svelte';
import { quota } from '../lib/stores/quota.svelte';
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
