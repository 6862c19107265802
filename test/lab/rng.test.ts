import { describe, expect, it } from 'vitest';
import { hash128, streamFor } from '../../src/lab/rng';
import { mean } from './fixtures';

function draws(labSeed: number, ...parts: (string | number)[]): number[] {
  const stream = streamFor(labSeed, ...parts);
  return Array.from({ length: 5 }, () => stream.uniform());
}

describe('keyed random streams', () => {
  it('gives the same numbers for the same seed and key', () => {
    expect(draws(7, 'plate-1', 'B7', 'seed')).toEqual(draws(7, 'plate-1', 'B7', 'seed'));
  });

  it('gives unrelated numbers when the seed or any key part changes', () => {
    const reference = draws(7, 'plate-1', 'B7', 'seed');
    expect(draws(8, 'plate-1', 'B7', 'seed')).not.toEqual(reference);
    expect(draws(7, 'plate-2', 'B7', 'seed')).not.toEqual(reference);
    expect(draws(7, 'plate-1', 'B8', 'seed')).not.toEqual(reference);
    expect(draws(7, 'plate-1', 'B7', 'dose')).not.toEqual(reference);
  });

  it('does not confuse key parts that concatenate to the same text', () => {
    expect(hash128(JSON.stringify([1, 'a|b', 'c']))).not.toEqual(hash128(JSON.stringify([1, 'a', 'b|c'])));
    expect(draws(1, 'a|b', 'c')).not.toEqual(draws(1, 'a', 'b|c'));
  });

  it('does not depend on which other streams were opened first', () => {
    const alone = draws(3, 'p', 'C4', 'read', 0);
    for (let i = 0; i < 50; i++) draws(3, 'p', `D${(i % 12) + 1}`, 'read', i);
    expect(draws(3, 'p', 'C4', 'read', 0)).toEqual(alone);
  });

  it('draws uniforms in [0, 1) and standard normals with mean 0 and sd 1', () => {
    const stream = streamFor(11, 'distribution');
    const uniforms = Array.from({ length: 20_000 }, () => stream.uniform());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    expect(mean(uniforms)).toBeCloseTo(0.5, 2);
    const normals = Array.from({ length: 20_000 }, () => stream.normal());
    const m = mean(normals);
    const sd = Math.sqrt(mean(normals.map((z) => (z - m) ** 2)));
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.97);
    expect(sd).toBeLessThan(1.03);
  });

  it('draws lognormal factors with mean 1 and the requested coefficient of variation', () => {
    const stream = streamFor(12, 'lognormal');
    const factors = Array.from({ length: 20_000 }, () => stream.lognormalFactor(0.05));
    const m = mean(factors);
    const cv = Math.sqrt(mean(factors.map((f) => (f - m) ** 2))) / m;
    expect(m).toBeCloseTo(1, 2);
    expect(cv).toBeGreaterThan(0.045);
    expect(cv).toBeLessThan(0.055);
    expect(Math.min(...factors)).toBeGreaterThan(0);
  });

  it('never fires chance(0) and always fires chance(1)', () => {
    const stream = streamFor(13, 'chance');
    const zeros = Array.from({ length: 1_000 }, () => stream.chance(0));
    const ones = Array.from({ length: 1_000 }, () => stream.chance(1));
    expect(zeros.some(Boolean)).toBe(false);
    expect(ones.every(Boolean)).toBe(true);
  });
});
