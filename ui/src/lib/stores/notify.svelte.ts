// Toasts, and the one place that turns a rejected command into something the user sees.
import { describeError, toIpcError, type IpcError } from '../ipc';

export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'error' | 'success';
}

let nextId = 1;

class Notify {
  toasts = $state<Toast[]>([]);
  /** called with every `notSignedIn`; the session store hooks itself in */
  onSignedOut: (() => void) | null = null;

  show(text: string, tone: Toast['tone'] = 'info', ms = 4500): void {
    const id = nextId++;
    this.toasts = [...this.toasts, { id, text, tone }];
    if (ms > 0) setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Reports a failed command by its kind; returns the IpcError for callers that branch on it. */
  error(e: unknown, what?: string): IpcError {
    const err = toIpcError(e);
    if (err.kind === 'notSignedIn') {
      this.onSignedOut?.();
      return err;
    }
    this.show(what ? `${what}: ${describeError(err)}` : describeError(err), 'error', 7000);
    return err;
  }
}

export const notify = new Notify();
