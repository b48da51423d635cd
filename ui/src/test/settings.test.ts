// The settings page: the background mode and start at login saved; its help section:
// diagnostics exported to a file the user picks.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { useMock } from './helpers';

afterEach(() => cleanup());

describe('settings page', () => {
  it('saves what closing the window does and start at login', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.click(screen.getByTestId('open-settings'));
    const close = (await waitFor(() => screen.getByTestId('settings-close-action'))) as HTMLSelectElement;
    expect(close.value).toBe('background-while-transferring');
    await fireEvent.change(close, { target: { value: 'background-always' } });
    await fireEvent.click(screen.getByTestId('settings-start-at-login'));
    await fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() =>
      expect(m.calls.find((c) => c[0] === 'settings_set')?.[1]).toMatchObject({ closeAction: 'background-always', startAtLogin: true }),
    );
  });

  it('exports diagnostics to the file picked', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.click(screen.getByTestId('open-settings'));
    await waitFor(() => screen.getByTestId('diagnostics-export'));
    await fireEvent.click(screen.getByTestId('diagnostics-export'));
    await waitFor(() =>
      expect(m.calls.find((c) => c[0] === 'diagnostics_export')?.[1]).toEqual({ path: '/home/you/Documents/tuatara-diagnostics.txt' }),
    );
  });
});
