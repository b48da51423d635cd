// Image rows show thumbnails, fetched only for rows on screen.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { useMock } from './helpers';

afterEach(() => cleanup());

const row = (name: string) => screen.getAllByTestId('file-row').find((r) => r.dataset.name === name)!;

describe('thumbnails', () => {
  it('shows a thumbnail for image rows and a type icon for others', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.dblClick(row('Photos'));
    await waitFor(() => row('2024'));
    await fireEvent.dblClick(row('2024'));
    await waitFor(() => row('IMG_0001.jpg'));
    await waitFor(() => expect(row('IMG_0001.jpg').querySelector('img')?.getAttribute('src')).toMatch(/^data:image\//), { timeout: 3000 });
    expect(m.calls.filter((c) => c[0] === 'thumbnail').length).toBeLessThanOrEqual(36);
  });

  it('asks for thumbnails of on-screen rows only in a huge folder', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 20_000 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.dblClick(row('Camera Uploads'));
    await waitFor(() => expect(screen.getAllByTestId('file-row')[0].dataset.name).toMatch(/^IMG_/));
    await waitFor(() => expect(screen.getAllByTestId('file-row').filter((r) => r.querySelector('img')).length).toBeGreaterThan(20), { timeout: 3000 });
    const asked = m.calls.filter((c) => c[0] === 'thumbnail').length;
    expect(asked).toBeGreaterThan(5);
    expect(asked).toBeLessThan(80);
  });
});
