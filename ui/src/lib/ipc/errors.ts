import type { ErrorKind, IpcError } from './types';

const KINDS: readonly ErrorKind[] = [
  'auth',
  'mfaRequired',
  'notSignedIn',
  'notFound',
  'exists',
  'badLink',
  'needsPassword',
  'quota',
  'network',
  'io',
  'crypto',
  'invalid',
  'internal',
];

export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as IpcError).kind === 'string' &&
    (KINDS as readonly string[]).includes((e as IpcError).kind)
  );
}

/** Whatever a command rejected with, as an IpcError (unknown shapes become `internal`). */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) {
    return { kind: e.kind, message: String(e.message ?? ''), retryable: Boolean(e.retryable) };
  }
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : 'Unexpected error';
  return { kind: 'internal', message, retryable: false };
}

export function ipcError(kind: ErrorKind, message: string, retryable = false): IpcError {
  return { kind, message, retryable };
}

/** A sentence for the user, chosen by kind; the message only adds detail for a few kinds. */
export function describeError(e: IpcError): string {
  switch (e.kind) {
    case 'auth':
      return 'Wrong email, password or code.';
    case 'mfaRequired':
      return 'This account needs its two-factor code.';
    case 'notSignedIn':
      return 'You are signed out. Sign in again.';
    case 'notFound':
      return 'It is no longer there; the listing was refreshed.';
    case 'exists':
      return 'Something with that name is already there.';
    case 'badLink':
      return 'That is not a valid MEGA link.';
    case 'needsPassword':
      return 'This link is protected by a password.';
    case 'quota':
      return 'Quota exceeded: not enough storage or transfer quota.';
    case 'network':
      return 'Cannot reach the server. Check your connection; it will be retried.';
    case 'io':
      return `Local file error${e.message ? `: ${e.message}` : '.'}`;
    case 'crypto':
      return 'Integrity check failed (wrong key or MAC mismatch).';
    case 'invalid':
      return `Not allowed${e.message ? `: ${e.message}` : '.'}`;
    case 'internal':
      return `Something went wrong${e.message ? `: ${e.message}` : '.'}`;
  }
}
