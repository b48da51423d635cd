// Storage and transfer quota, and the countdown while the transfer quota is used up.
import { ipc, type Quota } from '../ipc';

class QuotaStore {
  quota = $state<Quota | null>(null);
  /** when the transfer quota is back (ms since the epoch), or null */
  waitUntil = $state<number | null>(null);
  now = $state(Date.now());
  private ticker: ReturnType<typeof setInterval> | null = null;
  private poller: ReturnType<typeof setInterval> | null = null;
  private lastRefresh = 0;
  private trailing: ReturnType<typeof setTimeout> | null = null;

  readonly secondsLeft = $derived(this.waitUntil === null ? 0 : Math.max(0, Math.ceil((this.waitUntil - this.now) / 1000)));
  readonly waiting = $derived(this.waitUntil !== null && this.secondsLeft > 0);

  async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    try {
      const q = await ipc.quota();
      this.quota = q;
      if (q.transferWaitSeconds && q.transferWaitSeconds > 0) this.wait(q.transferWaitSeconds);
    } catch {
      // the meters keep their last value; a signed-out session is reported elsewhere
    }
  }

  start(pollMs = 60_000): void {
    void this.refresh();
    this.stop();
    this.poller = setInterval(() => void this.refresh(), pollMs);
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.ticker) clearInterval(this.ticker);
    if (this.trailing) clearTimeout(this.trailing);
    this.poller = this.ticker = this.trailing = null;
  }

  /**
   * Bytes moved (a transfer's progress or its end): the transfer meter follows within
   * `everyMs`, at most one `quota` call per `everyMs`, and a last one after the final bytes.
   */
  moved(everyMs = 5_000): void {
    if (!this.poller || this.trailing) return;
    const wait = Math.max(0, this.lastRefresh + everyMs - Date.now());
    this.trailing = setTimeout(() => {
      this.trailing = null;
      void this.refresh();
    }, wait);
  }

  /** `quota://waiting` or `transferWaitSeconds`: count down from `seconds`. */
  wait(seconds: number): void {
    this.now = Date.now();
    this.waitUntil = this.now + seconds * 1000;
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      this.now = Date.now();
      if (this.waitUntil !== null && this.now >= this.waitUntil) {
        this.waitUntil = null;
        if (this.ticker) clearInterval(this.ticker);
        this.ticker = null;
        void this.refresh();
      }
    }, 1000);
  }

  dismiss(): void {
    this.waitUntil = null;
  }
}

export const quota = new QuotaStore();
