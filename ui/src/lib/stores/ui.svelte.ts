// Which page and which dialog are showing, and the context menu.
import type { NodeDto } from '../ipc';

export type View = 'drive' | 'settings' | 'watches' | 'links';

export type Dialog =
  | { kind: 'newFolder' }
  | { kind: 'rename'; node: NodeDto }
  | { kind: 'move'; nodes: NodeDto[] }
  | { kind: 'link'; node: NodeDto; separate: boolean }
  | { kind: 'exportLinks'; node: NodeDto }
  | { kind: 'properties'; node: NodeDto }
  | { kind: 'deleteForever'; nodes: NodeDto[] }
  | { kind: 'duplicates' };

class Ui {
  view = $state<View>('drive');
  dialog = $state.raw<Dialog | null>(null);
  menu = $state.raw<{ x: number; y: number } | null>(null);

  show(d: Dialog): void {
    this.menu = null;
    this.dialog = d;
  }

  close(): void {
    this.dialog = null;
  }
}

export const ui = new Ui();
