// Login, 2FA, demo, session restore and expiry, through the whole App on the mock backend.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../App.svelte';
import { ipcError } from '../lib/ipc';
import { session } from '../lib/stores/session.svelte';
import { settle, useMock } from './helpers';

afterEach(() => {
  cleanup();
  session.phase = 'starting';
  session.error = null;
  session.notice = null;
});

async function signIn(email: string, password: string) {
  await fireEvent.input(screen.getByTestId('login-email'), { target: { value: email } });
  await fireEvent.input(screen.getByTestId('login-password'), { target: { value: password } });
  await fireEvent.click(screen.getByTestId('login-submit'));
}

describe('login', () => {
  it('signs in, showing "verifying" while the login runs, then opens the drive', async () => {
    const m = useMock({ latency: 5 });
    render(App);
    await waitFor(() => screen.getByTestId('login-email'));
    await signIn('me@example.com', 'tuatara-demo');
    await tick();
    expect(screen.getByTestId('login-submit').textContent).toMatch(/Verifying/);
    expect((screen.getByTestId('login-email') as HTMLInputElement).disabled).toBe(true);
    await waitFor(() => expect(screen.queryByTestId('login-email')).toBeNull());
    await waitFor(() => screen.getAllByTestId('file-row'));
    expect(screen.getAllByTestId('file-row').length).toBeGreaterThan(0);
    expect(m.calls.find((c) => c[0] === 'login')?.[1]).toEqual({ email: 'me@example.com', remember: true, apiUrl: undefined });
  });

  it('asks for the 2FA code, rejects a wrong one, accepts the right one', async () => {
    useMock();
    render(App);
    await settle();
    await signIn('mfa@example.com', 'tuatara-demo');
    await settle();
    const code = screen.getByTestId('login-mfa');
    await fireEvent.input(code, { target: { value: '000000' } });
    await fireEvent.click(screen.getByTestId('login-mfa-submit'));
    await settle();
    expect(screen.getByTestId('login-error').textContent).toMatch(/code is not right/);
    await fireEvent.input(screen.getByTestId('login-mfa'), { target: { value: '123 456' } });
    await fireEvent.click(screen.getByTestId('login-mfa-submit'));
    await settle(10);
    expect(session.phase).toBe('signedIn');
    expect(screen.getByTestId('file-list')).toBeTruthy();
  });

  it('says what went wrong by kind, not by message', async () => {
    const m = useMock();
    render(App);
    await settle();
    await signIn('me@example.com', 'nope');
    await settle();
    expect(screen.getByTestId('login-error').textContent).toBe('Wrong email or password.');
    m.login = () => Promise.reject(ipcError('network', 'dns lookup failed for g.api.mega.co.nz'));
    await fireEvent.click(screen.getByTestId('login-submit'));
    await settle();
    expect(screen.getByTestId('login-error').textContent).toMatch(/Cannot reach the server/);
    m.login = () => Promise.reject(ipcError('mfaRequired', ''));
    await fireEvent.click(screen.getByTestId('login-submit'));
    await settle();
    expect(screen.getByTestId('login-mfa')).toBeTruthy();
  });

  it('sends the API URL from the advanced section', async () => {
    const m = useMock();
    render(App);
    await settle();
    await fireEvent.click(screen.getByText('Advanced'));
    await fireEvent.input(screen.getByTestId('login-api-url'), { target: { value: ' http://127.0.0.1:9999/ ' } });
    await fireEvent.click(screen.getByTestId('login-remember'));
    await signIn('me@example.com', 'tuatara-demo');
    await settle(10);
    expect(m.calls.find((c) => c[0] === 'login')?.[1]).toEqual({ email: 'me@example.com', remember: false, apiUrl: 'http://127.0.0.1:9999/' });
  });

  it('opens the demo drive', async () => {
    useMock();
    render(App);
    await settle();
    await fireEvent.click(screen.getByTestId('open-demo'));
    await settle(10);
    expect(session.account?.demo).toBe(true);
    expect(screen.getByTestId('account-menu').textContent).toMatch(/demo@tuatara.test/);
  });

  it('restores a saved session without a password, and goes back to login when it expires', async () => {
    const m = useMock({ signedIn: true });
    render(App);
    await settle(10);
    expect(screen.queryByTestId('login-email')).toBeNull();
    expect(screen.getAllByTestId('file-row').length).toBeGreaterThan(0);
    m.emitSessionExpired();
    await settle();
    expect(screen.getByTestId('login-email')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toMatch(/session has expired/);
  });

  it('goes back to login when any command answers notSignedIn', async () => {
    const m = useMock({ signedIn: true });
    render(App);
    await settle(10);
    m.listFolder = () => Promise.reject(ipcError('notSignedIn', 'ESID'));
    await fireEvent.click(screen.getByTestId('sidebar-rubbish'));
    await settle();
    expect(session.phase).toBe('signedOut');
    expect(screen.getByTestId('login-email')).toBeTruthy();
  });

  it('logs out from the account menu', async () => {
    const m = useMock({ signedIn: true });
    render(App);
    await settle(10);
    await fireEvent.click(screen.getByTestId('account-menu'));
    await fireEvent.click(screen.getByTestId('logout'));
    await settle();
    expect(m.calls.some((c) => c[0] === 'logout')).toBe(true);
    expect(screen.getByTestId('login-email')).toBeTruthy();
  });
});
