// Every transfer job, fed by `transfers_subscribe`: a snapshot, then Channel events. Progress
// events are coalesced and applied at most every FLUSH_MS, so a busy queue repaints calmly.
import { ipc, type TransferAction, type TransferDto, type TransferEvent } from '../ipc';
import { notify } from './notify.svelte';
import { quota } from './quota.svelte';

const FLUSH_MS = 100;
const LIVE = new Set(['active', 'queued', 'waiting', 'retrying']);

class Transfers {
  jobs = $state<TransferDto[]>([]);
  /** the panel is open (it opens by itself when new jobs arrive) */
  open = $state(false);
  pausedAll = $state(false);
  subscribed = $state(false);
  private byId = new Map<string, TransferDto>();
  private pending = new Map<string, { done: number; speed: number; eta: number | null }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private early: TransferEvent[] | null = null;

  readonly totals = $derived.by(() => {
    let speed = 0;
    let left = 0;
    let moving = 0;
    let live = 0;
    let finished = 0;
    let failed = 0;
    let downSpeed = 0;
    let upSpeed = 0;
    for (const j of this.jobs) {
      if (LIVE.has(j.state) || j.state === 'paused') {
        left += Math.max(0, j.size - j.done);
        if (j.state !== 'paused') live++;
        if (j.state === 'active' || j.state === 'queued' || j.state === 'retrying') moving += Math.max(0, j.size - j.done);
      }
      if (j.state === 'active') {
        speed += j.speed;
        if (j.direction === 'download') downSpeed += j.speed;
        else upSpeed += j.speed;
      }
      if (j.state === 'done' || j.state === 'cancelled') finished++;
      if (j.state === 'failed') failed++;
    }
    return { speed, downSpeed, upSpeed, left, live, finished, failed, eta: speed > 0 ? Math.ceil(moving / speed) : null };
  });

  /** Forgets every job (sign-out); a new subscription brings them back. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reset([]);
    this.subscribed = false;
    this.open = false;
    this.pausedAll = false;
  }

  async start(): Promise<void> {
    this.early = [];
    try {
      const snapshot = await ipc.transfersSubscribe((e) => this.onEvent(e));
      this.reset(snapshot);
      const early = this.early;
      this.early = null;
      for (const e of early) this.apply(e);
      this.subscribed = true;
    } catch (e) {
      this.early = null;
      notify.error(e, 'Transfers');
    }
  }

  reset(snapshot: TransferDto[]): void {
    this.jobs = snapshot.map((j) => ({ ...j }));
    this.byId = new Map(this.jobs.map((j) => [j.id, j]));
    this.pending.clear();
    if (this.jobs.some((j) => LIVE.has(j.state))) this.open = true;
  }

  private onEvent(e: TransferEvent): void {
    if (this.early) this.early.push(e);
    else this.apply(e);
  }

  apply(e: TransferEvent): void {
    switch (e.event) {
      case 'snapshot': {
        const cur = this.byId.get(e.data.id);
        if (cur) Object.assign(cur, e.data);
        else {
          this.jobs.push({ ...e.data });
          this.byId.set(e.data.id, this.jobs[this.jobs.length - 1]);
          this.open = true;
        }
        this.pending.delete(e.data.id);
        break;
      }
      case 'progress': {
        this.pending.set(e.data.id, { done: e.data.done, speed: e.data.speed, eta: e.data.eta });
        quota.moved();
        this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
        break;
      }
      case 'state': {
        const j = this.byId.get(e.data.id);
        if (!j) break;
        this.flushOne(e.data.id);
        j.state = e.data.state;
        j.reason = e.data.reason;
        j.until = e.data.until;
        j.errorKind = e.data.errorKind;
        if (j.state !== 'active') {
          j.speed = 0;
          j.eta = null;
        }
        if (j.state === 'done') {
          j.done = j.size;
          quota.moved();
        }
        break;
      }
      case 'removed': {
        this.pending.delete(e.data.id);
        if (this.byId.delete(e.data.id)) this.jobs = this.jobs.filter((j) => j.id !== e.data.id);
        break;
      }
    }
  }

  private flushOne(id: string): void {
    const p = this.pending.get(id);
    const j = this.byId.get(id);
    if (p && j) Object.assign(j, p);
    this.pending.delete(id);
  }

  /** Applies the coalesced progress (the timer calls it; tests may call it directly). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const id of [...this.pending.keys()]) this.flushOne(id);
  }

  async control(id: string, action: TransferAction): Promise<void> {
    try {
      await ipc.transferControl({ id, action });
      if (action === 'top') {
        const i = this.jobs.findIndex((j) => j.id === id);
        if (i > 0) {
          const [j] = this.jobs.splice(i, 1);
          this.jobs.unshift(j);
        }
      }
    } catch (e) {
      notify.error(e, 'Transfer');
    }
  }

  async pauseAll(paused: boolean): Promise<void> {
    try {
      await ipc.transfersPauseAll({ paused });
      this.pausedAll = paused;
    } catch (e) {
      notify.error(e, paused ? 'Pause all' : 'Resume all');
    }
  }

  async clearFinished(): Promise<void> {
    try {
      await ipc.transfersClearFinished();
    } catch (e) {
      notify.error(e, 'Clear finished');
    }
  }

  async reveal(id: string): Promise<void> {
    try {
      await ipc.reveal({ id });
    } catch (e) {
      notify.error(e, 'Show in folder');
    }
  }
}

export const transfers = new Transfers();
