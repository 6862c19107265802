import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Deterministic randomness keyed by what is being simulated, not by when.
 *
 * Every draw comes from a stream named by (labSeed, key parts), e.g. (7, "plate-1", "B7", "seed").
 * A stream never depends on how many other streams were opened before it, so a well's noise is the
 * same whichever order wells are processed in, on however many workers or processes.
 */

export type KeyPart = string | number;

export interface RandomStream {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Normal with the given mean and standard deviation. */
  gaussian(mean: number, sd: number): number;
  /** Lognormal factor with mean 1 and coefficient of variation `cv` (a multiplicative assay error). */
  lognormalFactor(cv: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/**
 * Open the stream for (labSeed, ...parts). The same arguments always give the same sequence; any
 * difference in any part gives an unrelated one. Parts are JSON-encoded together so ("a|b", "c")
 * and ("a", "b|c") cannot collide.
 */
export function streamFor(labSeed: number, ...parts: KeyPart[]): RandomStream {
  return new KeyedStream(xoroshiro128plusFromState(hash128(JSON.stringify([labSeed, ...parts]))));
}

/**
 * 128-bit hash of a string as four signed 32-bit words (cyrb128-style: four multiply-xorshift lanes
 * cross-mixed at the end). Not cryptographic; it only has to spread similar keys far apart.
 */
export function hash128(text: string): [number, number, number, number] {
  let h1 = 0x6a09e667;
  let h2 = 0xbb67ae85;
  let h3 = 0x3c6ef372;
  let h4 = 0xa54ff53a;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  // xoroshiro's all-zero state is a fixed point; astronomically unlikely, but never allow it.
  if ((h1 | h2 | h3 | h4) === 0) h1 = 1;
  return [h1 | 0, h2 | 0, h3 | 0, h4 | 0];
}

class KeyedStream implements RandomStream {
  private spareNormal: number | undefined;

  constructor(private readonly generator: RandomGenerator) {}

  uniform(): number {
    return uniformFloat64(this.generator);
  }

  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  gaussian(mean: number, sd: number): number {
    return mean + sd * this.normal();
  }

  lognormalFactor(cv: number): number {
    if (cv <= 0) return 1;
    const sigmaSquared = Math.log(1 + cv * cv);
    return Math.exp(Math.sqrt(sigmaSquared) * this.normal() - sigmaSquared / 2);
  }

  chance(p: number): boolean {
    return this.uniform() < p;
  }
}
