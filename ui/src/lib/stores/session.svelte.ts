// Who is signed in: start-up restore, login with its 2FA step, the demo drive, logout, expiry.
import { ipc, toIpcError, type Account, type AppInfo, type IpcError } from '../ipc';
import { notify } from './notify.svelte';

export type Phase = 'starting' | 'signedOut' | 'mfa' | 'signedIn';

class Session {
  phase = $state<Phase>('starting');
  account = $state<Account | null>(null);
  info = $state<AppInfo | null>(null);
  /** a login, 2FA check or demo start is running ("verifying...") */
  busy = $state<'login' | 'mfa' | 'demo' | null>(null);
  error = $state<IpcError | null>(null);
  /** why the user is at the login screen again (session expired) */
  notice = $state<string | null>(null);

  constructor() {
    notify.onSignedOut = () => this.expire();
  }

  async start(): Promise<void> {
    this.phase = 'starting';
    try {
      this.info = await ipc.appInfo();
    } catch (e) {
      this.info = null;
      notify.error(e);
    }
    try {
      const acc = await ipc.sessionRestore();
      if (acc) return this.signedIn(acc);
    } catch (e) {
      // a session that cannot be restored just means "sign in"; say why unless it expired
      const err = toIpcError(e);
      if (err.kind !== 'notSignedIn') this.error = err;
    }
    this.phase = 'signedOut';
  }

  private signedIn(acc: Account): void {
    this.account = acc;
    this.error = null;
    this.notice = null;
    this.phase = 'signedIn';
  }

  async login(email: string, password: string, remember: boolean, apiUrl?: string): Promise<void> {
    this.busy = 'login';
    this.error = null;
    try {
      const url = apiUrl?.trim();
      const step = await ipc.login({ email: email.trim(), password, remember, ...(url ? { apiUrl: url } : {}) });
      if (step.step === 'needsMfa') this.phase = 'mfa';
      else this.signedIn(step.account);
    } catch (e) {
      const err = toIpcError(e);
      if (err.kind === 'mfaRequired') this.phase = 'mfa';
      else this.error = err;
    } finally {
      this.busy = null;
    }
  }

  async submitMfa(code: string): Promise<void> {
    this.busy = 'mfa';
    this.error = null;
    try {
      this.signedIn(await ipc.submitMfa({ code: code.replace(/\s+/g, '') }));
    } catch (e) {
      this.error = toIpcError(e);
    } finally {
      this.busy = null;
    }
  }

  cancelMfa(): void {
    this.phase = 'signedOut';
    this.error = null;
  }

  async openDemo(): Promise<void> {
    this.busy = 'demo';
    this.error = null;
    try {
      this.signedIn(await ipc.openDemo());
    } catch (e) {
      this.error = toIpcError(e);
    } finally {
      this.busy = null;
    }
  }

  async logout(): Promise<void> {
    try {
      await ipc.logout();
    } catch (e) {
      notify.error(e, 'Sign out');
    }
    this.account = null;
    this.phase = 'signedOut';
  }

  /** `session://expired` or any command answering `notSignedIn`. */
  expire(): void {
    if (this.phase !== 'signedIn') return;
    this.account = null;
    this.notice = 'Your session has expired. Sign in again.';
    this.phase = 'signedOut';
  }
}

export const session = new Session();
