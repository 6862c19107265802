import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Seeded random stream. Every random choice of the learner draws from a stream whose seed is a
 * hash of the campaign seed, the iteration and the pair, so a pair's samples do not depend on the
 * order in which other pairs are processed and the same input always gives the same batch.
 */
export class RandomStream {
  private readonly gen: RandomGenerator;
  private spare: number | undefined;

  constructor(seed: number) {
    // xoroshiro's first outputs depend on few seed bits; scramble the seed and discard a few draws
    // so that streams seeded by neighbouring hashes are unrelated.
    this.gen = xoroshiro128plus(fmix32(seed | 0));
    for (let i = 0; i < 8; i++) this.gen.next();
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Standard normal by Box-Muller (pairs cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.uniform();
    while (u <= 1e-300) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** MurmurHash3 finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** FNV-1a hash of the parts into a 32-bit seed. */
export function seedFrom(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0001');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
