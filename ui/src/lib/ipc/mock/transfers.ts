// A transfer engine for the mock: jobs that progress on a timer, a queue with a few slots,
// batched progress events, and the states the real engine reports (quota wait, retrying, failed).
import { ipcError } from '../errors';
import type { TransferAction, TransferDto, TransferEvent, TransferState } from '../types';

type Listener = (e: TransferEvent) => void;

interface Job extends TransferDto {
  /** bytes per second this job runs at when active */
  rate: number;
  /** fail with a MAC mismatch once this fraction is reached (first run only) */
  failAt?: number;
  /** go into "retrying" once at this fraction */
  retryAt?: number;
  retriedUntil?: number;
  onDone?: () => void;
}

const FINISHED: TransferState[] = ['done', 'cancelled', 'failed'];

export class MockTransfers {
  jobs: Job[] = [];
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private nextId = 1;
  pausedAll = false;
  slots = 3;

  constructor(private tickMs: number) {}

  subscribe(cb: Listener): TransferDto[] {
    this.listeners.add(cb);
    this.ensureTimer();
    return this.jobs.map(publicDto);
  }

  private emit(e: TransferEvent): void {
    for (const l of this.listeners) l(e);
  }

  private ensureTimer(): void {
    if (this.timer || this.tickMs <= 0) return;
    this.timer = setInterval(() => this.tick(this.tickMs / 1000), this.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  add(job: Omit<Job, 'id' | 'done' | 'speed' | 'eta' | 'reason' | 'until' | 'errorKind' | 'path' | 'state'> & Partial<Job>): string {
    const id = `job-${this.nextId++}`;
    const full: Job = {
      id,
      done: 0,
      speed: 0,
      eta: null,
      state: 'queued',
      reason: null,
      until: null,
      errorKind: null,
      path: null,
      ...job,
    };
    this.jobs.push(full);
    this.emit({ event: 'snapshot', data: publicDto(full) });
    this.ensureTimer();
    return id;
  }

  private setState(j: Job, state: TransferState, reason: string | null = null, until: number | null = null, errorKind: string | null = null): void {
    j.state = state;
    j.reason = reason;
    j.until = until;
    j.errorKind = errorKind;
    if (state !== 'active') {
      j.speed = 0;
      j.eta = null;
    }
    this.emit({ event: 'state', data: { id: j.id, state, reason, until, errorKind } });
  }

  /** Advances every job by `dt` seconds and sends one batch of progress events. */
  tick(dt: number): void {
    const now = Date.now() / 1000;
    for (const j of this.jobs) {
      if (j.state === 'waiting' && j.until !== null && j.until <= now) this.setState(j, 'queued');
      if (j.state === 'retrying' && (j.retriedUntil ?? 0) <= now) this.setState(j, 'active');
    }
    if (!this.pausedAll) {
      let active = this.jobs.filter((j) => j.state === 'active').length;
      for (const j of this.jobs) {
        if (active >= this.slots) break;
        if (j.state === 'queued') {
          this.setState(j, 'active');
          active++;
        }
      }
    }
    for (const j of this.jobs) {
      if (j.state !== 'active') continue;
      const wobble = 0.85 + 0.3 * Math.abs(Math.sin(now * 1.7 + j.rate));
      const speed = Math.round(j.rate * wobble);
      j.done = Math.min(j.size, j.done + speed * dt);
      j.speed = speed;
      j.eta = speed > 0 ? Math.ceil((j.size - j.done) / speed) : null;
      const frac = j.size ? j.done / j.size : 1;
      if (j.failAt !== undefined && frac >= j.failAt) {
        j.failAt = undefined;
        this.setState(j, 'failed', 'MAC mismatch: the data did not verify; retry fetches the bad chunks again', null, 'crypto');
        continue;
      }
      if (j.retryAt !== undefined && frac >= j.retryAt) {
        j.retryAt = undefined;
        j.retriedUntil = now + 4;
        this.setState(j, 'retrying', 'Server busy (EAGAIN); retrying', Math.round(now + 4));
        continue;
      }
      this.emit({ event: 'progress', data: { id: j.id, done: Math.floor(j.done), speed: j.speed, eta: j.eta } });
      if (j.done >= j.size) {
        j.done = j.size;
        j.path = j.direction === 'download' ? `/home/you/Downloads/${j.name}` : null;
        this.setState(j, 'done');
        j.onDone?.();
      }
    }
  }

  private find(id: string): Job {
    const j = this.jobs.find((x) => x.id === id);
    if (!j) throw ipcError('notFound', `no transfer ${id}`);
    return j;
  }

  control(id: string, action: TransferAction): void {
    const j = this.find(id);
    switch (action) {
      case 'pause':
        if (!FINISHED.includes(j.state)) this.setState(j, 'paused');
        break;
      case 'resume':
        if (j.state === 'paused') this.setState(j, 'queued');
        break;
      case 'cancel':
        if (j.state !== 'done') this.setState(j, 'cancelled');
        break;
      case 'retry':
        if (j.state === 'failed' || j.state === 'cancelled') this.setState(j, 'queued');
        break;
      case 'top': {
        this.jobs.splice(this.jobs.indexOf(j), 1);
        this.jobs.unshift(j);
        // a priority change is announced as a fresh snapshot of the job
        this.emit({ event: 'snapshot', data: publicDto(j) });
        break;
      }
    }
  }

  pauseAll(paused: boolean): void {
    this.pausedAll = paused;
    for (const j of this.jobs) {
      if (paused && (j.state === 'active' || j.state === 'queued')) this.setState(j, 'paused');
      if (!paused && j.state === 'paused') this.setState(j, 'queued');
    }
  }

  clearFinished(): void {
    const gone = this.jobs.filter((j) => j.state === 'done' || j.state === 'cancelled');
    this.jobs = this.jobs.filter((j) => !gone.includes(j));
    for (const j of gone) this.emit({ event: 'removed', data: { id: j.id } });
  }
}

function publicDto(j: Job): TransferDto {
  return {
    id: j.id,
    direction: j.direction,
    name: j.name,
    size: j.size,
    done: Math.floor(j.done),
    speed: j.speed,
    eta: j.eta,
    state: j.state,
    reason: j.reason,
    until: j.until,
    errorKind: j.errorKind,
    path: j.path,
  };
}
