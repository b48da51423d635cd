// The Links page: "Received" (the links ledger, re-checked, forgotten, re-checked by itself on
// a period), "Shared by me" (exported links copied whole, without key, key alone; status;
// removed), and a batch of #P! links unlocked with one password in the links dialog.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Shell from '../lib/components/Shell.svelte';
import { links } from '../lib/stores/links.svelte';
import { linksPage } from '../lib/stores/linkspage.svelte';
import { ui } from '../lib/stores/ui.svelte';
import { settle, useMock } from './helpers';

afterEach(() => {
  cleanup();
  links.close();
  links.reset();
  linksPage.tab = 'received';
  linksPage.sharedStatus = {};
  ui.view = 'drive';
});

const K43 = 'k'.repeat(43);

async function openPage(opts = {}) {
  const m = useMock({ signedIn: true, bigFolderSize: 10, ...opts });
  render(Shell);
  await waitFor(() => screen.getAllByTestId('file-row'));
  await fireEvent.click(screen.getByTestId('open-links-page'));
  return m;
}

const received = () => screen.queryAllByTestId('received-row');

describe('links page', () => {
  it('lists what was downloaded from links, re-checks it and forgets a link', async () => {
    const m = await openPage();
    await waitFor(() => screen.getByText(/Nothing received yet/));
    // Download two links through the dialog: they land in the ledger.
    await fireEvent.click(screen.getByTestId('open-links'));
    const text = `https://mega.nz/file/AbCdEfGh#${K43}\nhttps://mega.nz/file/GoneGone#${'g'.repeat(43)}`;
    await fireEvent.input(screen.getByTestId('links-text'), { target: { value: text } });
    await fireEvent.click(screen.getByTestId('links-check'));
    await waitFor(() => screen.getAllByTestId('link-row'));
    await m.linksDownload({ links: [`https://mega.nz/file/AbCdEfGh#${K43}`, `https://mega.nz/file/GoneGone#${'g'.repeat(43)}`], dest: '/tmp' });
    links.close();
    await linksPage.loadReceived();
    await waitFor(() => expect(received()).toHaveLength(2));
    expect(received().map((r) => r.dataset.health)).toEqual(['unchecked', 'unchecked']);

    await fireEvent.click(screen.getByTestId('links-recheck'));
    await waitFor(() => expect(received().map((r) => r.dataset.health).sort()).toEqual(['alive', 'removed']));
    const gone = received().find((r) => r.dataset.health === 'removed')!;
    expect(gone.textContent).toMatch(/Removed/);

    await fireEvent.click(gone.querySelector('[data-testid="received-forget"]')!);
    await waitFor(() => expect(received()).toHaveLength(1));
    expect(m.calls.find((c) => c[0] === 'links_received_forget')?.[1]).toEqual({ ids: ['file:GoneGone'] });
  });

  it('sets the period of the re-check in the settings, and reloads when the app re-checked', async () => {
    const m = await openPage();
    const select = (await waitFor(() => screen.getByTestId('links-recheck-period'))) as HTMLSelectElement;
    await waitFor(() => expect(select.disabled).toBe(false));
    await fireEvent.change(select, { target: { value: '24' } });
    await waitFor(() => expect((m.calls.find((c) => c[0] === 'settings_set')?.[1] as { linksRecheckHours: number }).linksRecheckHours).toBe(24));
    const before = m.calls.filter((c) => c[0] === 'links_received').length;
    m.emitLinksRechecked({ checked: 0, down: [] });
    await settle();
    expect(m.calls.filter((c) => c[0] === 'links_received').length).toBe(before + 1);
  });

  it('shows the links of the drive, copies them with the key apart, checks and removes them', async () => {
    const m = await openPage();
    await fireEvent.click(screen.getByTestId('links-tab-shared'));
    const rows = await waitFor(() => {
      const r = screen.getAllByTestId('shared-row');
      expect(r.length).toBeGreaterThan(0);
      return r;
    });
    const shared = await m.linksShared();
    expect(rows.map((r) => r.dataset.name)).toEqual(shared.map((s) => s.name));
    const first = rows[0];
    const copied: string[] = [];
    m.copyText = async (t: string) => void copied.push(t);
    await fireEvent.click(first.querySelector('[data-testid="shared-copy-bare"]')!);
    await fireEvent.click(first.querySelector('[data-testid="shared-copy-key"]')!);
    await waitFor(() => expect(copied).toHaveLength(2));
    expect(`${copied[0]}#${copied[1]}`).toBe(shared[0].link);
    expect(copied[0]).not.toContain('#');

    await fireEvent.click(screen.getByTestId('shared-check'));
    await waitFor(() => expect(screen.getAllByTestId('shared-status')).toHaveLength(rows.length));

    const remove = first.querySelector('[data-testid="shared-remove"]') as HTMLButtonElement;
    await fireEvent.click(remove);
    expect(remove.textContent).toMatch(/Remove\?/);
    expect(m.calls.some((c) => c[0] === 'link_remove')).toBe(false);
    await fireEvent.click(remove);
    await waitFor(() => expect(screen.getAllByTestId('shared-row')).toHaveLength(rows.length - 1));
    expect((await m.linksShared()).map((s) => s.handle)).not.toContain(shared[0].handle);
  });
});

describe('links dialog: #P! links', () => {
  it('unlocks every protected link of a batch with one password', async () => {
    const m = useMock({ signedIn: true, bigFolderSize: 10 });
    render(Shell);
    await waitFor(() => screen.getAllByTestId('file-row'));
    await fireEvent.click(screen.getByTestId('open-links'));
    const text = 'https://mega.nz/#P!AgAAAAAAAAPTinyProtectedLinkXyz\nhttps://mega.nz/#P!AwOtherProtectedLinkQqQq';
    await fireEvent.input(screen.getByTestId('links-text'), { target: { value: text } });
    await fireEvent.click(screen.getByTestId('links-check'));
    await waitFor(() => screen.getByTestId('links-batch-password'));
    const status = () => screen.getAllByTestId('link-row').map((r) => r.dataset.status);
    expect(status()).toEqual(['needsPassword', 'needsPassword']);

    await fireEvent.input(screen.getByTestId('links-batch-password-input'), { target: { value: 'nope' } });
    await fireEvent.click(screen.getByTestId('links-batch-unlock'));
    await waitFor(() => expect(screen.getAllByTestId('link-row')[0].textContent).toMatch(/wrong password/i));
    expect(status()).toEqual(['needsPassword', 'needsPassword']);

    await fireEvent.input(screen.getByTestId('links-batch-password-input'), { target: { value: 'tuatara' } });
    await fireEvent.click(screen.getByTestId('links-batch-unlock'));
    await waitFor(() => expect(status()).toEqual(['alive', 'alive']));
    expect(screen.queryByTestId('links-batch-password')).toBeNull();
    const checks = m.calls.filter((c) => c[0] === 'links_check').map((c) => c[1]);
    expect(checks.at(-1)).toMatchObject({ password: '<redacted>' });
  });
});
