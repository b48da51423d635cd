// Settings and watched folders: small lists loaded on demand and saved through commands.
import { ipc, type Settings, type WatchDto } from '../ipc';
import { notify } from './notify.svelte';

class Prefs {
  settings = $state<Settings | null>(null);
  saving = $state(false);
  watches = $state<WatchDto[]>([]);
  watchesLoaded = $state(false);

  async loadSettings(): Promise<void> {
    try {
      this.settings = await ipc.settingsGet();
    } catch (e) {
      notify.error(e, 'Settings');
    }
  }

  async saveSettings(s: Settings): Promise<boolean> {
    this.saving = true;
    try {
      await ipc.settingsSet($state.snapshot(s) as Settings);
      this.settings = $state.snapshot(s) as Settings;
      notify.show('Settings saved', 'success', 2000);
      return true;
    } catch (e) {
      notify.error(e, 'Saving settings');
      return false;
    } finally {
      this.saving = false;
    }
  }

  async loadWatches(): Promise<void> {
    try {
      this.watches = await ipc.watchList();
      this.watchesLoaded = true;
    } catch (e) {
      notify.error(e, 'Watched folders');
    }
  }

  /** Adds an upload watch (`local` into the drive path `remote`) or a links-file watch (`local`
   * a links file, `remote` the download folder). */
  async addWatch(w: { kind: 'upload' | 'links'; local: string; remote: string; ignore?: string[]; trashDeleted?: boolean }): Promise<boolean> {
    try {
      if (w.kind === 'links') await ipc.watchAddLinks({ source: w.local, dest: w.remote });
      else await ipc.watchAdd({ local: w.local, remote: w.remote, ignore: w.ignore ?? [], trashDeleted: w.trashDeleted ?? false });
      await this.loadWatches();
      return true;
    } catch (e) {
      notify.error(e, 'Adding the watched folder');
      return false;
    }
  }

  async pauseWatch(id: string, paused: boolean): Promise<void> {
    try {
      await ipc.watchPause({ id, paused });
      await this.loadWatches();
    } catch (e) {
      notify.error(e);
    }
  }

  async removeWatch(id: string): Promise<void> {
    try {
      await ipc.watchRemove({ id });
      await this.loadWatches();
    } catch (e) {
      notify.error(e);
    }
  }
}

export const prefs = new Prefs();
