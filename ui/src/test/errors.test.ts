// Failed commands are shown by their kind, never by parsing the message.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import Toasts from '../lib/components/common/Toasts.svelte';
import { describeError, ipcError, toIpcError, type ErrorKind } from '../lib/ipc';
import { notify } from '../lib/stores/notify.svelte';
import { useMock } from './helpers';

afterEach(() => {
  cleanup();
  notify.toasts = [];
});

const KINDS: ErrorKind[] = ['auth', 'mfaRequired', 'notSignedIn', 'notFound', 'exists', 'badLink', 'needsPassword', 'quota', 'network', 'io', 'crypto', 'invalid', 'internal'];

describe('IpcError', () => {
  it('has a sentence for every kind, whatever the message says', () => {
    for (const kind of KINDS) {
      const a = describeError(ipcError(kind, 'x'));
      expect(a.length, kind).toBeGreaterThan(5);
    }
    // the message does not pick the sentence
    expect(describeError(ipcError('quota', 'wrong password'))).toMatch(/quota/i);
    expect(describeError(ipcError('auth', 'over quota'))).toMatch(/password/);
  });

  it('normalises unknown rejections to internal', () => {
    expect(toIpcError(new Error('x'))).toEqual({ kind: 'internal', message: 'x', retryable: false });
    expect(toIpcError({ kind: 'bogus', message: 'y' }).kind).toBe('internal');
    expect(toIpcError({ kind: 'io', message: 'disk full', retryable: true })).toEqual({ kind: 'io', message: 'disk full', retryable: true });
  });

  it('shows a toast by kind when an action fails', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    render(Toasts);
    await waitFor(() => screen.getAllByTestId('file-row'));
    // "exists" from mkdir
    await fireEvent.click(screen.getByTestId('new-folder'));
    await fireEvent.input(screen.getByTestId('name-input'), { target: { value: 'Photos' } });
    await fireEvent.click(screen.getByTestId('name-submit'));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/New folder: Something with that name is already there/));
    // the dialog stays open to fix the name
    expect(screen.getByTestId('name-input')).toBeTruthy();
    await fireEvent.keyDown(screen.getByTestId('name-input'), { key: 'Escape' });

    // "quota" from a download
    m.download = () => Promise.reject(ipcError('quota', 'EOVERQUOTA'));
    await fireEvent.contextMenu(screen.getAllByTestId('file-row')[0]);
    await fireEvent.click(screen.getByTestId('menu-download'));
    await waitFor(() => expect(screen.getAllByRole('alert').some((a) => /Download: Quota exceeded/.test(a.textContent ?? ''))).toBe(true));
  });
});
