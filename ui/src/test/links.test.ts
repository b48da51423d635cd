// The links dialog: check pasted text, statuses per link, #P! passwords and missing keys,
// download or import, folder links with checkboxes, and links://opened.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { links } from '../lib/stores/links.svelte';
import { useMock } from './helpers';

afterEach(() => {
  cleanup();
  links.close();
  links.reset();
});

const K43 = 'k'.repeat(43);
const TEXT = [
  'see https://mega.nz/file/AbCdEfGh#' + K43 + ' and again https://mega.nz/#!AbCdEfGh!' + K43,
  'https://mega.nz/folder/FoLdEr12#' + 'f'.repeat(22),
  'https://mega.nz/#P!AgAAAAAAAAPTinyProtectedLinkXyz',
  'https://mega.nz/file/GoneGone#' + 'g'.repeat(43),
  'https://mega.nz/file/NoKey123',
].join('\n');

const rows = () => screen.getAllByTestId('link-row');
const status = () => rows().map((r) => r.dataset.status);

async function openWith(text: string) {
  const m = useMock({ signedIn: true, bigFolderSize: 10 });
  render(Shell);
  await waitFor(() => screen.getAllByTestId('file-row'));
  await fireEvent.click(screen.getByTestId('open-links'));
  await fireEvent.input(screen.getByTestId('links-text'), { target: { value: text } });
  await fireEvent.click(screen.getByTestId('links-check'));
  await waitFor(() => rows());
  return m;
}

describe('links dialog', () => {
  it('checks every link once and shows each status', async () => {
    await openWith(TEXT);
    expect(status()).toEqual(['alive', 'alive', 'needsPassword', 'removed', 'needsKey']);
    expect(rows()[3].textContent).toMatch(/removed/i);
    // keys are not shown
    expect(screen.getByTestId('links-dialog').textContent).not.toContain(K43);
    expect((screen.getByTestId('links-download') as HTMLButtonElement).textContent).toMatch(/Download 2/);
  });

  it('sends the keys given apart with the check', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.click(screen.getByTestId('open-links'));
    await fireEvent.input(screen.getByTestId('links-text'), { target: { value: 'https://mega.nz/file/NoKey123' } });
    await fireEvent.input(screen.getByTestId('links-keys'), { target: { value: 'NoKey123 ' + K43 + '\n\n' } });
    await fireEvent.click(screen.getByTestId('links-check'));
    await waitFor(() => rows());
    expect(m.calls.find((c) => c[0] === 'links_check')?.[1]).toEqual({ chars: 29, keys: 1 });
  });

  it('asks for the password of a #P! link and unlocks it', async () => {
    await openWith(TEXT);
    const pw = screen.getByTestId('links-password');
    await fireEvent.input(pw, { target: { value: 'wrong' } });
    await fireEvent.submit(pw.closest('form')!);
    await waitFor(() => expect(rows()[2].textContent).toMatch(/Wrong password/));
    await fireEvent.input(screen.getByTestId('links-password'), { target: { value: 'tuatara' } });
    await fireEvent.submit(screen.getByTestId('links-password').closest('form')!);
    await waitFor(() => expect(status()).toEqual(['alive', 'alive', 'alive', 'removed', 'needsKey']));
  });

  it('takes a missing key, then downloads every ready link to the chosen folder', async () => {
    const m = await openWith(TEXT);
    await fireEvent.input(screen.getByTestId('links-key'), { target: { value: '#' + 'z'.repeat(43) } });
    await fireEvent.submit(screen.getByTestId('links-key').closest('form')!);
    await waitFor(() => expect(status()[4]).toBe('alive'));
    await fireEvent.input(screen.getByTestId('links-dest'), { target: { value: '/tmp/dl' } });
    await fireEvent.click(screen.getByTestId('links-download'));
    await waitFor(() => expect(m.calls.some((c) => c[0] === 'links_download')).toBe(true));
    expect(m.calls.find((c) => c[0] === 'links_download')?.[1]).toEqual({ count: 3, dest: '/tmp/dl' });
    await waitFor(() => expect(screen.queryByTestId('links-dialog')).toBeNull());
  });

  it('shows links downloaded before as done', async () => {
    await openWith('https://mega.nz/file/AbCdEfGh#' + K43);
    await fireEvent.click(screen.getByTestId('links-download'));
    await waitFor(() => expect(screen.queryByTestId('links-dialog')).toBeNull());
    await fireEvent.click(screen.getByTestId('open-links'));
    await fireEvent.click(screen.getByTestId('links-check'));
    await waitFor(() => expect(status()).toEqual(['done']));
    expect(rows()[0].textContent).toMatch(/Downloaded/);
    expect(screen.getByTestId('links-dialog').textContent).toMatch(/1 downloaded before/);
    expect((screen.getByTestId('links-download') as HTMLButtonElement).disabled).toBe(true);
  });

  it('imports ready links into the open folder', async () => {
    const m = await openWith('https://mega.nz/file/AbCdEfGh#' + K43);
    await fireEvent.click(screen.getByTestId('links-import'));
    await waitFor(() => expect(m.calls.find((c) => c[0] === 'links_import')?.[1]).toEqual({ count: 1, parent: m.drive.cloud }));
  });

  it('browses a folder link and downloads a picked subset', async () => {
    const m = await openWith('https://mega.nz/folder/FoLdEr12#' + 'f'.repeat(22));
    await fireEvent.click(screen.getByTestId('link-browse'));
    await waitFor(() => screen.getByTestId('folder-link-browser'));
    const picks = screen.getAllByTestId('folder-link-pick') as HTMLInputElement[];
    // everything starts picked; untick the Raw folder (6 files) and one image
    expect(picks.every((p) => p.checked)).toBe(true);
    await fireEvent.click(picks[0]);
    await fireEvent.click(picks[1]);
    await fireEvent.click(screen.getByTestId('folder-link-download'));
    await waitFor(() => expect(m.calls.some((c) => c[0] === 'folder_link_download')).toBe(true));
    expect((m.calls.find((c) => c[0] === 'folder_link_download')?.[1] as { count: number }).count).toBe(14);
  });

  it('opens by itself on links://opened', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    m.emitLinksOpened({ text: 'mega://#!AbCdEfGh!' + K43 });
    await waitFor(() => expect(status()).toEqual(['alive']));
  });
});

describe('links dialog keys', () => {
  it('closes on Escape sent to the document', async () => {
    useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.click(screen.getByTestId('open-links'));
    expect(screen.getByTestId('links-dialog')).toBeTruthy();
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await waitFor(() => expect(screen.queryByTestId('links-dialog')).toBeNull());
  });
});
