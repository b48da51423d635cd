// Thumbnails for visible rows: fetched a few at a time, only for rows that stay on screen a
// moment (fast scrolling over 100,000 photos asks for nothing), cached for the session.
import { ipc, type Handle } from '../ipc';

const CONCURRENCY = 4;
const SETTLE_MS = 90;
const MAX_CACHED = 3000;

class Thumbs {
  urls = $state<Record<Handle, string | null>>({});
  private queue: Handle[] = [];
  private wanted = new Map<Handle, number>();
  private running = 0;
  private order: Handle[] = [];
  /** what `urls` holds, readable without subscribing a row's effect to every new thumbnail */
  private known = new Set<Handle>();

  /** A row with a thumbnail appeared; returns the function to call when it goes away. */
  want(handle: Handle): () => void {
    if (this.known.has(handle)) return () => {};
    this.wanted.set(handle, (this.wanted.get(handle) ?? 0) + 1);
    const t = setTimeout(() => {
      if (this.wanted.has(handle) && !this.queue.includes(handle)) {
        this.queue.push(handle);
        this.pump();
      }
    }, SETTLE_MS);
    return () => {
      clearTimeout(t);
      const n = (this.wanted.get(handle) ?? 1) - 1;
      if (n <= 0) this.wanted.delete(handle);
      else this.wanted.set(handle, n);
    };
  }

  private pump(): void {
    while (this.running < CONCURRENCY && this.queue.length) {
      // newest first: the rows the user is looking at now
      const h = this.queue.pop()!;
      if (!this.wanted.has(h) || this.known.has(h)) continue;
      this.running++;
      ipc
        .thumbnail({ handle: h })
        .then((url) => this.store(h, url))
        .catch(() => this.store(h, null))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private store(h: Handle, url: string | null): void {
    this.urls[h] = url;
    this.known.add(h);
    this.order.push(h);
    if (this.order.length > MAX_CACHED) {
      for (const old of this.order.splice(0, this.order.length - MAX_CACHED)) {
        delete this.urls[old];
        this.known.delete(old);
      }
    }
  }
}

export const thumbs = new Thumbs();
