// The watches view: an upload watch with ignore globs and deletions to the rubbish bin, and a
// links-file watch, each through its own command.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { useMock } from './helpers';

afterEach(() => cleanup());

async function openWatches() {
  const m = useMock({ signedIn: true, bigFolderSize: 10 });
  render(Shell);
  await waitFor(() => screen.getAllByTestId('file-row'));
  await fireEvent.click(screen.getByTestId('open-watches'));
  await waitFor(() => screen.getAllByTestId('watch-row'));
  await fireEvent.click(screen.getByTestId('watch-add'));
  return m;
}

const input = (id: string, value: string) => fireEvent.input(screen.getByTestId(id), { target: { value } });

describe('watches view', () => {
  it('adds an upload watch with ignore globs and deletions to the rubbish bin', async () => {
    const m = await openWatches();
    await input('watch-local', '/home/you/Music');
    await input('watch-remote', 'Music/');
    await input('watch-ignore', '*.tmp, , Thumbs.db');
    await fireEvent.click(screen.getByTestId('watch-trash'));
    await fireEvent.click(screen.getByTestId('watch-add-submit'));
    await waitFor(() => expect(screen.getAllByTestId('watch-row')).toHaveLength(4));
    const call = m.calls.find((c) => c[0] === 'watch_add');
    expect(call?.[1]).toEqual({ local: '/home/you/Music', remote: 'Music/', ignore: ['*.tmp', 'Thumbs.db'], trashDeleted: true });
    const row = screen.getAllByTestId('watch-row').find((r) => r.dataset.local === '/home/you/Music')!;
    expect(row.textContent).toContain('/Music');
    expect(row.querySelector('[data-testid="watch-options"]')?.textContent).toMatch(/skips \*\.tmp, Thumbs\.db · deletions to the rubbish bin/);
  });

  it('adds a links-file watch with its download folder', async () => {
    const m = await openWatches();
    await fireEvent.click(screen.getByTestId('watch-kind-links'));
    expect(screen.queryByTestId('watch-ignore')).toBeNull();
    await input('watch-local', '/home/you/more-links.txt');
    await input('watch-remote', '/home/you/Downloads/links');
    await fireEvent.click(screen.getByTestId('watch-add-submit'));
    await waitFor(() => expect(screen.getAllByTestId('watch-row')).toHaveLength(4));
    expect(m.calls.find((c) => c[0] === 'watch_add_links')?.[1]).toEqual({ source: '/home/you/more-links.txt', dest: '/home/you/Downloads/links' });
    expect(m.calls.some((c) => c[0] === 'watch_add')).toBe(false);
    const row = screen.getAllByTestId('watch-row').find((r) => r.dataset.local === '/home/you/more-links.txt')!;
    expect(row.textContent).toContain('/home/you/Downloads/links');
  });
});
