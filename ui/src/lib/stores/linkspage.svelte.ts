// The Links page: "Received" (the links ledger: what was downloaded from links, re-checked for
// link rot, with each link's history) and "Shared by me" (every link the account exported, with
// its status, copied whole or with its key apart, or removed).
import { ipc, type Handle, type LinkHealth, type ReceivedLink, type SharedLinkCheck, type SharedLinkDto } from '../ipc';
import { notify } from './notify.svelte';

export type LinksTab = 'received' | 'shared';

export const HEALTH_LABEL: Record<LinkHealth, string> = {
  alive: 'Alive',
  removed: 'Removed',
  takenDown: 'Taken down',
  changed: 'Changed',
  needsKey: 'Needs key',
  needsPassword: 'Needs password',
  bad: 'Bad',
};

class LinksPage {
  tab = $state<LinksTab>('received');
  received = $state<ReceivedLink[]>([]);
  receivedLoaded = $state(false);
  rechecking = $state(false);
  shared = $state<SharedLinkDto[]>([]);
  sharedLoaded = $state(false);
  /** what the last status check found, by node */
  sharedStatus = $state<Record<Handle, SharedLinkCheck>>({});
  checkingShared = $state(false);

  async loadReceived(): Promise<void> {
    try {
      this.received = await ipc.linksReceived();
    } catch (e) {
      notify.error(e, 'Reading the received links');
    } finally {
      this.receivedLoaded = true;
    }
  }

  async recheckReceived(): Promise<void> {
    this.rechecking = true;
    try {
      this.received = await ipc.linksReceivedCheck();
      const down = this.received.filter((r) => r.health && r.health !== 'alive').length;
      notify.show(down ? `${down} of ${this.received.length} received links do not work` : `All ${this.received.length} received links work`, down ? 'info' : 'success');
    } catch (e) {
      notify.error(e, 'Re-checking links');
    } finally {
      this.rechecking = false;
    }
  }

  async forget(r: ReceivedLink): Promise<void> {
    try {
      await ipc.linksReceivedForget({ ids: [r.id] });
      this.received = this.received.filter((x) => x.id !== r.id);
    } catch (e) {
      notify.error(e, 'Forgetting the link');
    }
  }

  async loadShared(): Promise<void> {
    try {
      this.shared = await ipc.linksShared();
    } catch (e) {
      notify.error(e, 'Reading your links');
    } finally {
      this.sharedLoaded = true;
    }
  }

  async checkShared(): Promise<void> {
    this.checkingShared = true;
    try {
      const found = await ipc.linksSharedCheck();
      this.sharedStatus = Object.fromEntries(found.map((c) => [c.handle, c]));
    } catch (e) {
      notify.error(e, 'Checking your links');
    } finally {
      this.checkingShared = false;
    }
  }

  async copy(text: string, what: string): Promise<void> {
    try {
      await ipc.copyText(text);
      notify.show(`${what} copied`, 'success');
    } catch (e) {
      notify.error(e, 'Copying');
    }
  }

  async remove(s: SharedLinkDto): Promise<void> {
    try {
      await ipc.linkRemove({ handle: s.handle });
      this.shared = this.shared.filter((x) => x.handle !== s.handle);
      notify.show(`The link of ${s.name} no longer works`, 'success');
    } catch (e) {
      notify.error(e, 'Removing the link');
    }
  }
}

export const linksPage = new LinksPage();
