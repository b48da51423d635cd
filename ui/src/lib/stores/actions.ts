// What the menus, buttons and keys do to nodes: one function per action, each reporting its
// own failure by kind. The listing refreshes through `tree://changed`.
import { ipc, type Handle, type ListFormat, type NodeDto } from '../ipc';
import { drive } from './drive.svelte';
import { notify } from './notify.svelte';
import { ui } from './ui.svelte';

const names = (nodes: NodeDto[]) => (nodes.length === 1 ? nodes[0].name : `${nodes.length} items`);
const handles = (nodes: NodeDto[]) => nodes.map((n) => n.handle);

export async function download(nodes: NodeDto[], dest?: string): Promise<void> {
  if (!nodes.length) return;
  try {
    await ipc.download({ handles: handles(nodes), ...(dest ? { dest } : {}) });
    notify.show(`Downloading ${names(nodes)}`, 'success', 2500);
  } catch (e) {
    notify.error(e, 'Download');
  }
}

export async function downloadTo(nodes: NodeDto[]): Promise<void> {
  const picked = await ipc.pickPaths({ directory: true, multiple: false, title: 'Download to' }).catch((e) => (notify.error(e), null));
  if (picked?.[0]) await download(nodes, picked[0]);
}

export async function trash(nodes: NodeDto[]): Promise<void> {
  if (!nodes.length) return;
  if (drive.section === 'rubbish') return ui.show({ kind: 'deleteForever', nodes });
  if (drive.section === 'share') return void notify.show('Incoming shares are read-only here', 'info');
  try {
    await ipc.trash({ handles: handles(nodes) });
    notify.show(`Moved ${names(nodes)} to the rubbish bin`, 'info');
  } catch (e) {
    notify.error(e, 'Delete');
  }
}

export async function deleteForever(nodes: NodeDto[]): Promise<void> {
  try {
    await ipc.deleteForever({ handles: handles(nodes) });
    notify.show(`Deleted ${names(nodes)} for good`, 'info');
  } catch (e) {
    notify.error(e, 'Delete');
  }
}

export async function restore(nodes: NodeDto[]): Promise<void> {
  try {
    await ipc.restore({ handles: handles(nodes) });
    notify.show(`Restored ${names(nodes)}`, 'success');
  } catch (e) {
    notify.error(e, 'Restore');
  }
}

export async function rename(node: NodeDto, name: string): Promise<boolean> {
  if (!name.trim() || name === node.name) return true;
  try {
    await ipc.rename({ handle: node.handle, name: name.trim() });
    return true;
  } catch (e) {
    notify.error(e, 'Rename');
    return false;
  }
}

export async function move(nodes: NodeDto[], target: Handle): Promise<boolean> {
  try {
    await ipc.moveNodes({ handles: handles(nodes), target });
    notify.show(`Moved ${names(nodes)}`, 'success');
    return true;
  } catch (e) {
    notify.error(e, 'Move');
    return false;
  }
}

export async function mkdir(name: string): Promise<boolean> {
  const parent = drive.folder;
  if (!parent || !name.trim()) return false;
  try {
    const n = await ipc.mkdir({ parent: parent.handle, name: name.trim() });
    await drive.open(parent.handle, n.name);
    return true;
  } catch (e) {
    notify.error(e, 'New folder');
    return false;
  }
}

export async function upload(paths: string[], parent: Handle | undefined = drive.folder?.handle): Promise<void> {
  if (!paths.length || !parent) return;
  try {
    await ipc.upload({ paths, parent });
    notify.show(`Uploading ${paths.length === 1 ? paths[0].split(/[\\/]/).pop() : `${paths.length} items`}`, 'success', 2500);
  } catch (e) {
    notify.error(e, 'Upload');
  }
}

export async function pickAndUpload(directory: boolean): Promise<void> {
  if (!drive.writable) return void notify.show('Open a folder of your cloud drive to upload into it', 'info');
  const parent = drive.folder?.handle;
  const paths = await ipc.pickPaths({ directory, multiple: true, title: directory ? 'Upload folders' : 'Upload files' }).catch((e) => (notify.error(e), null));
  if (paths?.length) await upload(paths, parent);
}

export async function copy(text: string, what = 'Link'): Promise<void> {
  try {
    await ipc.copyText(text);
    notify.show(`${what} copied`, 'success', 2000);
  } catch {
    notify.show('Could not reach the clipboard; select the text and copy it', 'error');
  }
}

export async function removeLink(node: NodeDto): Promise<void> {
  try {
    await ipc.linkRemove({ handle: node.handle });
    notify.show(`The link to ${node.name} no longer works`, 'info');
  } catch (e) {
    notify.error(e, 'Remove link');
  }
}

/** How a folder's links file is written (see `links_export_save`). */
export interface ExportChoice {
  format: ListFormat;
  keysApart: boolean;
  asFolder: boolean;
  password: string;
}

/**
 * Exports a folder as a links file the user picks (with its keys in `FILE.keys` when kept
 * apart); false when cancelled or failed.
 */
export async function exportLinksToFile(node: NodeDto, choice: ExportChoice): Promise<boolean> {
  const ext = choice.format === 'plain' ? 'txt' : choice.format;
  const path = await ipc.pickSavePath({ title: 'Save links', defaultPath: `${node.name} links.${ext}` }).catch((e) => (notify.error(e), null));
  if (!path) return false;
  const keyFile = choice.keysApart ? `${path}.keys` : undefined;
  try {
    const n = await ipc.linksExportSave({
      handle: node.handle,
      path,
      format: choice.format,
      keyFile,
      password: choice.password || undefined,
      asFolder: choice.asFolder,
    });
    const keys = keyFile ? `; the keys in ${keyFile}` : '';
    notify.show(`Saved ${n} link${n === 1 ? '' : 's'} to ${path}${keys}`, 'success');
    return true;
  } catch (e) {
    notify.error(e, 'Export links');
    return false;
  }
}

/** Saves a list of links to a file the user picks; false when cancelled or failed. */
export async function saveLinks(links: string[], name: string): Promise<boolean> {
  const path = await ipc.pickSavePath({ title: 'Save links', defaultPath: `${name} links.txt` }).catch((e) => (notify.error(e), null));
  if (!path) return false;
  try {
    await ipc.linksSave({ path, links });
    notify.show(`Saved ${links.length} link${links.length === 1 ? '' : 's'} to ${path}`, 'success');
    return true;
  } catch (e) {
    notify.error(e, 'Save links');
    return false;
  }
}
