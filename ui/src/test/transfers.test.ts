// The transfers panel: a snapshot, then Channel events; progress coalesced; states with reasons;
// the per-job and global controls.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import TransfersPanel from '../lib/components/transfers/TransfersPanel.svelte';
import { transfers } from '../lib/stores/transfers.svelte';
import type { TransferDto } from '../lib/ipc';
import { settle, useMock } from './helpers';

afterEach(() => {
  cleanup();
  transfers.stop();
});

const job = (over: Partial<TransferDto>): TransferDto => ({
  id: 'j1',
  direction: 'download',
  name: 'big.iso',
  size: 1000,
  done: 0,
  speed: 0,
  eta: null,
  state: 'queued',
  reason: null,
  until: null,
  errorKind: null,
  path: null,
  ...over,
});

const rowOf = (name: string) => screen.getAllByTestId('transfer-row').find((r) => r.dataset.name === name)!;

describe('transfers store', () => {
  it('applies the snapshot, then events; coalesces progress until a flush', () => {
    transfers.reset([job({ id: 'a', state: 'active', done: 100 }), job({ id: 'b', name: 'two.bin' })]);
    transfers.apply({ event: 'progress', data: { id: 'a', done: 200, speed: 50, eta: 16 } });
    transfers.apply({ event: 'progress', data: { id: 'a', done: 300, speed: 60, eta: 12 } });
    expect(transfers.jobs[0].done).toBe(100);
    transfers.flush();
    expect(transfers.jobs[0]).toMatchObject({ done: 300, speed: 60, eta: 12 });
    expect(transfers.totals).toMatchObject({ speed: 60, live: 2, left: 700 + 1000 });

    transfers.apply({ event: 'progress', data: { id: 'a', done: 400, speed: 60, eta: 10 } });
    // a state change applies the pending progress first, then the state
    transfers.apply({ event: 'state', data: { id: 'a', state: 'waiting', reason: 'Transfer quota used up', until: 2_000_000_000, errorKind: null } });
    expect(transfers.jobs[0]).toMatchObject({ done: 400, state: 'waiting', speed: 0, eta: null });

    transfers.apply({ event: 'snapshot', data: job({ id: 'c', name: 'new.bin' }) });
    expect(transfers.jobs.map((j) => j.id)).toEqual(['a', 'b', 'c']);
    transfers.apply({ event: 'removed', data: { id: 'b' } });
    expect(transfers.jobs.map((j) => j.id)).toEqual(['a', 'c']);
    transfers.apply({ event: 'state', data: { id: 'c', state: 'done', reason: null, until: null, errorKind: null } });
    expect(transfers.jobs[1].done).toBe(1000);
    expect(transfers.totals.finished).toBe(1);
  });

  it('keeps events that arrive before the snapshot and replays them after it', async () => {
    const m = useMock();
    m.transfersSubscribe = async (onEvent) => {
      onEvent({ event: 'state', data: { id: 'x', state: 'active', reason: null, until: null, errorKind: null } });
      return [job({ id: 'x' })];
    };
    await transfers.start();
    expect(transfers.jobs[0].state).toBe('active');
  });
});

describe('transfers panel', () => {
  it('shows each job with progress, speed, ETA and the state with its reason', async () => {
    const m = useMock({ seedTransfers: true });
    render(TransfersPanel);
    await transfers.start();
    await tick();
    expect(screen.getAllByTestId('transfer-row')).toHaveLength(5);
    expect(rowOf('census-2023.csv').dataset.state).toBe('done');

    m.transfers.tick(1);
    transfers.flush();
    await tick();
    const weather = rowOf('weather-archive.bin');
    expect(weather.dataset.state).toBe('active');
    expect(weather.textContent).toMatch(/MB\/s · \d+ (s|min) left/);
    expect(screen.getByTestId('transfers-totals').textContent).toMatch(/3 running/);

    // the upload reaches its retry point; the sensor download fails its MAC check
    let sawRetry = false;
    for (let i = 0; i < 40 && !(sawRetry && rowOf('sensor-readings.parquet').dataset.state === 'failed'); i++) {
      m.transfers.tick(1);
      transfers.flush();
      await tick();
      sawRetry ||= /Retrying: Server busy/.test(rowOf('holiday-2025.mov').textContent ?? '');
    }
    expect(sawRetry).toBe(true);
    expect(rowOf('sensor-readings.parquet').textContent).toMatch(/Failed: MAC mismatch/);
    expect(screen.getByTestId('transfers-totals').textContent).toMatch(/1 failed/);
  });

  it('shows downloads waiting for the transfer quota with the time left', async () => {
    useMock({ seedTransfers: true, quotaWait: 720 });
    render(TransfersPanel);
    await transfers.start();
    await tick();
    for (const name of ['ubuntu-24.04.iso', 'weather-archive.bin']) {
      expect(rowOf(name).dataset.state).toBe('waiting');
      expect(rowOf(name).textContent).toMatch(/Waiting for transfer quota: 12 min/);
    }
    expect(rowOf('holiday-2025.mov').dataset.state).toBe('active');
  });

  it('sends pause, resume, cancel, retry, move to top, pause all and clear finished', async () => {
    const m = useMock({ seedTransfers: true });
    render(TransfersPanel);
    await transfers.start();
    m.transfers.tick(0.1);
    await tick();
    const id = (name: string) => rowOf(name).dataset.id;

    await fireEvent.click(rowOf('weather-archive.bin').querySelector('[data-testid=transfer-pause]')!);
    await waitFor(() => expect(rowOf('weather-archive.bin').dataset.state).toBe('paused'));
    await fireEvent.click(rowOf('weather-archive.bin').querySelector('[data-testid=transfer-resume]')!);
    await waitFor(() => expect(rowOf('weather-archive.bin').dataset.state).toBe('queued'));
    await fireEvent.click(rowOf('laptop-2025-10.tar.zst').querySelector('[data-testid=transfer-top]')!);
    await waitFor(() => expect(screen.getAllByTestId('transfer-row')[0].dataset.name).toBe('laptop-2025-10.tar.zst'));
    await fireEvent.click(rowOf('holiday-2025.mov').querySelector('[data-testid=transfer-cancel]')!);
    await waitFor(() => expect(rowOf('holiday-2025.mov').dataset.state).toBe('cancelled'));
    await fireEvent.click(rowOf('holiday-2025.mov').querySelector('[data-testid=transfer-retry]')!);
    await waitFor(() => expect(rowOf('holiday-2025.mov').dataset.state).toBe('queued'));

    await fireEvent.click(screen.getByTestId('pause-all'));
    await waitFor(() => expect(screen.getAllByTestId('transfer-row').filter((r) => r.dataset.state === 'paused').length).toBeGreaterThanOrEqual(3));
    await fireEvent.click(screen.getByTestId('clear-finished'));
    await waitFor(() => expect(screen.queryAllByTestId('transfer-row').some((r) => r.dataset.name === 'census-2023.csv')).toBe(false));

    const controls = m.calls.filter((c) => c[0] === 'transfer_control').map((c) => c[1]);
    expect(controls).toEqual([
      { id: id('weather-archive.bin'), action: 'pause' },
      { id: id('weather-archive.bin'), action: 'resume' },
      { id: id('laptop-2025-10.tar.zst'), action: 'top' },
      { id: id('holiday-2025.mov'), action: 'cancel' },
      { id: id('holiday-2025.mov'), action: 'retry' },
    ]);
    expect(m.calls.some((c) => c[0] === 'transfers_pause_all' && (c[1] as { paused: boolean }).paused)).toBe(true);
    await settle();
  });
});
