/**
 * 96-well plate geometry: well names, positions, which wells sit on the edge, and the order in
 * which a batch fills a plate. Only the 96-well format exists in the virtual lab today.
 */

export const PLATE_ROWS = 8;
export const PLATE_COLUMNS = 12;
export const PLATE_CAPACITY_WELLS = PLATE_ROWS * PLATE_COLUMNS;
export const WELL_WORKING_VOLUME_MICROLITRES = 200;
/**
 * Cells that cover a 96-well's 0.32 cm² growth area completely (confluence 1.0). Real lines range
 * from ~40,000 (large, flat cells) to ~80,000 (HEK293T); one middle figure keeps the model simple.
 */
export const CONFLUENT_CELLS_PER_WELL = 60_000;

const ROW_LETTERS = 'ABCDEFGH';
const WELL_NAME = /^([A-H])([1-9]|1[0-2])$/;

export interface WellPosition {
  /** 0-based: A = 0 .. H = 7. */
  rowIndex: number;
  /** 0-based: column 1 = 0 .. column 12 = 11. */
  columnIndex: number;
}

/** True for a canonical 96-well name ("A1".."H12"; no leading zeros, upper case). */
export function isWellName(name: string): boolean {
  return WELL_NAME.test(name);
}

/**
 * Row and column of a well name. Throws a RangeError naming the bad value and what is allowed,
 * because a misspelt well must never silently land somewhere else on the plate.
 */
export function parseWell(name: string): WellPosition {
  const match = WELL_NAME.exec(name);
  if (!match) throw new RangeError(`unknown well "${name}": expected A1..H12 on a 96-well plate`);
  return { rowIndex: ROW_LETTERS.indexOf(match[1] as string), columnIndex: Number(match[2]) - 1 };
}

/** The name of the well at a 0-based row and column. */
export function wellName(position: WellPosition): string {
  const { rowIndex, columnIndex } = position;
  if (!Number.isInteger(rowIndex) || rowIndex < 0 || rowIndex >= PLATE_ROWS)
    throw new RangeError(`row index ${rowIndex} is outside 0..${PLATE_ROWS - 1}`);
  if (!Number.isInteger(columnIndex) || columnIndex < 0 || columnIndex >= PLATE_COLUMNS)
    throw new RangeError(`column index ${columnIndex} is outside 0..${PLATE_COLUMNS - 1}`);
  return `${ROW_LETTERS[rowIndex]}${columnIndex + 1}`;
}

/**
 * Distance in wells to the nearest plate edge: 0 for the outer ring (rows A/H, columns 1/12),
 * 1 for the second ring, 2 or 3 further in. Edge effects (evaporation, temperature) fall with it.
 */
export function ringIndex(name: string): number {
  const { rowIndex, columnIndex } = parseWell(name);
  return Math.min(rowIndex, PLATE_ROWS - 1 - rowIndex, columnIndex, PLATE_COLUMNS - 1 - columnIndex);
}

/** True for the 36 outer-ring wells, which evaporate more and grow worse. */
export function isEdge(name: string): boolean {
  return ringIndex(name) === 0;
}

const FILL_ORDER: readonly string[] = (() => {
  const all: string[] = [];
  for (let rowIndex = 0; rowIndex < PLATE_ROWS; rowIndex++)
    for (let columnIndex = 0; columnIndex < PLATE_COLUMNS; columnIndex++) all.push(wellName({ rowIndex, columnIndex }));
  return [...all.filter((w) => !isEdge(w)), ...all.filter((w) => isEdge(w))];
})();

/** Number of non-edge wells; a batch up to this size never touches the outer ring. */
export const INTERIOR_WELL_COUNT = FILL_ORDER.filter((w) => !isEdge(w)).length;

/**
 * The i-th well a batch should use (0-based): the 60 interior wells row by row first, then the 36
 * edge wells, so small batches avoid the wells whose readouts are least trustworthy.
 */
export function wellForIndex(index: number): string {
  const name = Number.isInteger(index) ? FILL_ORDER[index] : undefined;
  if (name === undefined) throw new RangeError(`well index ${index} is outside 0..${PLATE_CAPACITY_WELLS - 1}`);
  return name;
}

/** The column (1..12) of a well name. */
export function columnOf(name: string): number {
  return parseWell(name).columnIndex + 1;
}
