// The settings page's help section: diagnostics exported to a file the user picks.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { useMock } from './helpers';

afterEach(() => cleanup());

describe('settings page', () => {
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
