// Multi-selection over a list of rows: click, ctrl/cmd-click, shift-click and the keyboard.

export interface Mods {
  ctrl?: boolean;
  shift?: boolean;
}

export interface SelectionState {
  selected: Set<string>;
  anchor: number;
  focus: number;
}

export function emptySelection(): SelectionState {
  return { selected: new Set(), anchor: -1, focus: -1 };
}

function range(keys: readonly string[], a: number, b: number): Set<string> {
  const out = new Set<string>();
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  for (let i = Math.max(0, lo); i <= hi && i < keys.length; i++) out.add(keys[i]);
  return out;
}

/** A click on row `index` with modifier keys. */
export function clickRow(s: SelectionState, keys: readonly string[], index: number, mods: Mods): SelectionState {
  const key = keys[index];
  if (key === undefined) return s;
  if (mods.shift && s.anchor >= 0) {
    const r = range(keys, s.anchor, index);
    if (mods.ctrl) for (const k of s.selected) r.add(k);
    return { selected: r, anchor: s.anchor, focus: index };
  }
  if (mods.ctrl) {
    const sel = new Set(s.selected);
    if (sel.has(key)) sel.delete(key);
    else sel.add(key);
    return { selected: sel, anchor: index, focus: index };
  }
  return { selected: new Set([key]), anchor: index, focus: index };
}

/** Arrow keys, Home/End, Page keys: move the focus by `delta` (clamped); shift extends. */
export function moveFocus(s: SelectionState, keys: readonly string[], to: number, shift: boolean): SelectionState {
  if (!keys.length) return s;
  const index = Math.max(0, Math.min(keys.length - 1, to));
  if (shift) {
    const anchor = s.anchor >= 0 ? s.anchor : index;
    return { selected: range(keys, anchor, index), anchor, focus: index };
  }
  return { selected: new Set([keys[index]]), anchor: index, focus: index };
}

export function selectAll(keys: readonly string[], s: SelectionState): SelectionState {
  return { selected: new Set(keys), anchor: s.anchor < 0 ? 0 : s.anchor, focus: s.focus < 0 ? 0 : s.focus };
}
