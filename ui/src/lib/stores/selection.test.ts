import { describe, expect, it } from 'vitest';
import { clickRow, emptySelection, moveFocus, selectAll } from './selection';

const keys = ['a', 'b', 'c', 'd', 'e'];
const sel = (s: { selected: Set<string> }) => [...s.selected].sort();

describe('selection', () => {
  it('a plain click selects one row', () => {
    const s = clickRow(clickRow(emptySelection(), keys, 1, {}), keys, 3, {});
    expect(sel(s)).toEqual(['d']);
    expect(s.anchor).toBe(3);
  });
  it('ctrl toggles rows in and out', () => {
    let s = clickRow(emptySelection(), keys, 0, {});
    s = clickRow(s, keys, 2, { ctrl: true });
    expect(sel(s)).toEqual(['a', 'c']);
    s = clickRow(s, keys, 0, { ctrl: true });
    expect(sel(s)).toEqual(['c']);
  });
  it('shift selects the range from the anchor, either way', () => {
    let s = clickRow(emptySelection(), keys, 3, {});
    s = clickRow(s, keys, 1, { shift: true });
    expect(sel(s)).toEqual(['b', 'c', 'd']);
    s = clickRow(s, keys, 4, { shift: true });
    expect(sel(s)).toEqual(['d', 'e']);
  });
  it('ctrl+shift adds a range to what is selected', () => {
    let s = clickRow(emptySelection(), keys, 0, {});
    s = clickRow(s, keys, 3, { ctrl: true });
    s = clickRow(s, keys, 4, { ctrl: true, shift: true });
    expect(sel(s)).toEqual(['a', 'd', 'e']);
  });
  it('keyboard focus moves, clamps, and extends with shift', () => {
    let s = moveFocus(emptySelection(), keys, 0, false);
    s = moveFocus(s, keys, s.focus + 1, true);
    s = moveFocus(s, keys, s.focus + 1, true);
    expect(sel(s)).toEqual(['a', 'b', 'c']);
    s = moveFocus(s, keys, 99, false);
    expect(s.focus).toBe(4);
    expect(sel(s)).toEqual(['e']);
    expect(moveFocus(s, keys, -5, false).focus).toBe(0);
  });
  it('select all', () => {
    expect(sel(selectAll(keys, emptySelection()))).toEqual(keys);
  });
});
