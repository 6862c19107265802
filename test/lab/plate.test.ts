import { describe, expect, it } from 'vitest';
import {
  INTERIOR_WELL_COUNT,
  PLATE_CAPACITY_WELLS,
  WELL_WORKING_VOLUME_MICROLITRES,
  isEdge,
  isWellName,
  parseWell,
  ringIndex,
  wellForIndex,
  wellName,
} from '../../src/lab/plate';

describe('96-well plate geometry', () => {
  it('holds 96 wells of 200 µL', () => {
    expect(PLATE_CAPACITY_WELLS).toBe(96);
    expect(WELL_WORKING_VOLUME_MICROLITRES).toBe(200);
  });

  it('parses well names into 0-based rows and columns and back', () => {
    expect(parseWell('A1')).toEqual({ rowIndex: 0, columnIndex: 0 });
    expect(parseWell('H12')).toEqual({ rowIndex: 7, columnIndex: 11 });
    expect(parseWell('B7')).toEqual({ rowIndex: 1, columnIndex: 6 });
    expect(wellName({ rowIndex: 1, columnIndex: 6 })).toBe('B7');
  });

  it('rejects names that are not on a 96-well plate, naming the bad value', () => {
    for (const bad of ['I1', 'A0', 'A13', 'a1', 'A01', '', 'B7 ', '7B']) {
      expect(isWellName(bad)).toBe(false);
      expect(() => parseWell(bad)).toThrow(`"${bad}"`);
    }
    expect(() => wellName({ rowIndex: 8, columnIndex: 0 })).toThrow(RangeError);
  });

  it('marks rows A/H and columns 1/12 as edge, and numbers the rings inwards', () => {
    expect(['A1', 'A6', 'H12', 'D1', 'E12'].every(isEdge)).toBe(true);
    expect(['B2', 'D6', 'G11'].some(isEdge)).toBe(false);
    expect(ringIndex('A5')).toBe(0);
    expect(ringIndex('B5')).toBe(1);
    expect(ringIndex('C3')).toBe(2);
    expect(ringIndex('D6')).toBe(3);
  });

  it('fills the 60 interior wells before any edge well, using every well once', () => {
    const order = Array.from({ length: 96 }, (_, i) => wellForIndex(i));
    expect(INTERIOR_WELL_COUNT).toBe(60);
    expect(new Set(order).size).toBe(96);
    expect(order.slice(0, 60).some(isEdge)).toBe(false);
    expect(order.slice(60).every(isEdge)).toBe(true);
    expect(order[0]).toBe('B2');
    expect(() => wellForIndex(96)).toThrow(RangeError);
    expect(() => wellForIndex(-1)).toThrow(RangeError);
  });
});
