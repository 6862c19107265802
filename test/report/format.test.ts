import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  formatEstimate,
  formatInterval,
  formatMicromolar,
  lowerEnd,
  upperEnd,
} from '../../src/report/format';

const range = { minMicromolar: 0.001, maxMicromolar: 10 };

describe('formatting micromolar values', () => {
  it('keeps three significant figures in plain digits', () => {
    expect(formatMicromolar(0.20634)).toBe('0.206');
    expect(formatMicromolar(0.001)).toBe('0.001');
    expect(formatMicromolar(0.000123456)).toBe('0.000123');
    expect(formatMicromolar(10)).toBe('10');
    expect(formatMicromolar(5.7912)).toBe('5.79');
    expect(formatMicromolar(1234.5)).toBe('1230');
  });
});

describe('interval ends the data cannot place', () => {
  it('writes an infinite upper end as ">max", never as a number', () => {
    expect(upperEnd(Infinity, range)).toEqual({ kind: 'above-range', micromolar: 10, text: '>10' });
    expect(formatInterval(3.9, Infinity, range)).toBe('3.9–>10');
  });

  it('writes a lower end of 0 (10^-∞ or an underflow) as "<min", never as 0', () => {
    expect(lowerEnd(0, range).text).toBe('<0.001');
    expect(lowerEnd(10 ** -Infinity, range).text).toBe('<0.001');
    expect(formatInterval(0, 0.0035, range)).toBe('<0.001–0.0035');
    expect(formatInterval(0, Infinity, range)).toBe('<0.001–>10');
  });

  it('treats an end beyond the dose range as unbounded, since only the prior places it', () => {
    expect(formatInterval(0.0004, 0.002, range)).toBe('<0.001–0.002');
    expect(formatInterval(4, 31.6, range)).toBe('4–>10');
    expect(formatInterval(20, 40, range)).toBe('>10–>10');
  });

  it('leaves ends inside the range as they are, including the range edges themselves', () => {
    expect(formatInterval(0.169, 0.246, range)).toBe('0.169–0.246');
    expect(formatInterval(0.001, 10, range)).toBe('0.001–10');
  });

  it('writes a missing end as unbounded and a wholly missing interval as n/a', () => {
    expect(formatInterval(undefined, 0.5, range)).toBe('<0.001–0.5');
    expect(formatInterval(0.5, undefined, range)).toBe('0.5–>10');
    expect(formatInterval(undefined, undefined, range)).toBe('n/a');
  });

  it('clamps a point estimate beyond the range the same way', () => {
    expect(formatEstimate(Infinity, range)).toBe('>10');
    expect(formatEstimate(0, range)).toBe('<0.001');
    expect(formatEstimate(0.206, range)).toBe('0.206');
    expect(formatEstimate(undefined, range)).toBe('n/a');
  });
});

describe('escaping', () => {
  it('escapes markup and both quote kinds', () => {
    expect(escapeHtml(`<b a="1" b='2'>&</b>`)).toBe('&lt;b a=&quot;1&quot; b=&#39;2&#39;&gt;&amp;&lt;/b&gt;');
  });
});
