import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinLabConfig } from '../../src/config/lab-config';
import { checkConfigAgainstLab } from '../../src/config/lab-check';
import { builtinLabProfile, loadLabProfileFile, type LabProfile } from '../../src/config/lab-profile';
import { formatProblem } from '../../src/config/validation';
import { virtualLabCatalogue } from '../../src/lab/catalogue';
import { stockForProfile } from '../../src/inventory/default-stock';
import { testConfig } from '../helpers/configs';

/** The catalogue a fresh virtual lab on `profile` publishes (its stock as the profile states it). */
function catalogueOf(profile: LabProfile = builtinLabProfile()) {
  const items = stockForProfile(profile).map((d) => ({
    ...d,
    reorderLevel: d.reorderLevel ?? 0,
    description: d.description ?? '',
    updatedAt: '',
  }));
  return virtualLabCatalogue({ profile, items, labConfig: builtinLabConfig() });
}

const problems = (check: ReturnType<typeof checkConfigAgainstLab>) => check.problems.map(formatProblem).join('\n');

describe('a campaign checked against what the lab publishes', () => {
  it('refuses an unknown cell line, listing the known ones and a close match', () => {
    const check = checkConfigAgainstLab(testConfig({ cellLines: ['U2OS', 'Hela'] }), catalogueOf());
    expect(problems(check)).toMatch(/cellLines\[1\].*did you mean "HeLa".*known: A549, CHO/);
    expect(problems(check)).toMatch(/"Hela"/);
  });

  it('refuses an unknown compound by its field in a pairs design', () => {
    const config = testConfig({
      cellLines: undefined,
      compounds: undefined,
      pairs: [
        { cellLine: 'U2OS', compound: 'staurosporine' },
        { cellLine: 'HeLa', compound: 'aspirin' },
      ],
    });
    expect(problems(checkConfigAgainstLab(config, catalogueOf()))).toMatch(
      /pairs\[1\]\.compound.*no compound.*"aspirin"/,
    );
  });

  it('refuses a pair the lab has no response model for, before anything starts', () => {
    const config = testConfig({ cellLines: ['iPSC'], compounds: ['staurosporine'] });
    expect(problems(checkConfigAgainstLab(config, catalogueOf()))).toMatch(
      /cannot run this pair.*"iPSC × staurosporine"/,
    );
  });

  it('refuses a top dose the stock cannot make', () => {
    // Staurosporine is stocked at 1 mM: 10 µL into 110 µL makes at most 90.9 µM.
    const config = testConfig({ doseRange: { minMicromolar: 0.01, maxMicromolar: 200 } });
    expect(problems(checkConfigAgainstLab(config, catalogueOf()))).toMatch(
      /doseRange.maxMicromolar.*1000 µM.*at most 90.909/,
    );
  });

  it('warns when the stock may not cover the campaign, with the whole restock command', () => {
    const config = testConfig({
      maxIterations: 500,
      batchSize: 20,
      doseRange: { minMicromolar: 0.01, maxMicromolar: 50 },
    });
    const check = checkConfigAgainstLab(config, catalogueOf());
    expect(check.problems).toEqual([]);
    expect(check.warnings.join('\n')).toMatch(
      /staurosporine: 200 µL .* restock with: npx cellos restock staurosporine \d+ --concentration 1000 --lot STS-0001/,
    );
  });

  it('lets a compound new to the lab run at once: a profile compound arrives with its stock', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellos-profile-'));
    const path = join(dir, 'my-lab.yaml');
    writeFileSync(
      path,
      [
        'name: my-lab',
        'cellLines:',
        '  RPE1: { doublingHours: 30, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 }',
        'compounds:',
        '  cmpd-7:',
        '    hillSlope: 1.1',
        '    ic50Micromolar: { RPE1: 2.5, U2OS: 0.9 }',
      ].join('\n'),
    );
    const profile = loadLabProfileFile(path);
    const lab = catalogueOf(profile);
    const stock = lab.compounds.find((c) => c.compound === 'cmpd-7');
    expect(stock).toMatchObject({ stockMicromolar: 10_000, microlitres: 1_000 });
    const config = testConfig({ cellLines: ['RPE1', 'U2OS'], compounds: ['cmpd-7'], maxIterations: 3 });
    expect(checkConfigAgainstLab(config, lab)).toEqual({ problems: [], warnings: [] });
    // Built-in entries remain, and pairs the profile leaves undefined are refused.
    expect(lab.compounds.some((c) => c.compound === 'staurosporine')).toBe(true);
    const bad = testConfig({ cellLines: ['RPE1'], compounds: ['staurosporine'] });
    expect(problems(checkConfigAgainstLab(bad, lab))).toMatch(/cannot run.*"RPE1 × staurosporine"/);
  });
});

describe('lab profiles', () => {
  const write = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'cellos-profile-')), 'p.yaml');
    writeFileSync(path, text);
    return path;
  };

  it('states each curve at its reference time, with compound defaults and per-line overrides', () => {
    const profile = loadLabProfileFile(
      write(
        [
          'referenceHours: 48',
          'compounds:',
          '  x1:',
          '    hillSlope: 2',
          '    bottom: 0.1',
          '    ic50Micromolar: { U2OS: 1 }',
          '    responses:',
          '      HeLa: { ic50Micromolar: 3, bottom: 0.4, referenceHours: 72 }',
        ].join('\n'),
      ),
    );
    expect(profile.compounds.x1?.responses.U2OS).toEqual({
      ic50Micromolar: 1,
      hillSlope: 2,
      top: 1,
      bottom: 0.1,
      referenceHours: 48,
    });
    expect(profile.compounds.x1?.responses.HeLa).toMatchObject({
      ic50Micromolar: 3,
      hillSlope: 2,
      bottom: 0.4,
      referenceHours: 72,
    });
    // The built-in curves keep the 24 h they were stated at.
    expect(profile.compounds.staurosporine?.responses.U2OS?.referenceHours).toBe(24);
  });

  it('defaults referenceHours to 72 h', () => {
    const profile = loadLabProfileFile(write('compounds:\n  x2:\n    ic50Micromolar: { U2OS: 1 }\n'));
    expect(profile.compounds.x2?.responses.U2OS?.referenceHours).toBe(72);
  });

  it.each([
    [
      'plateaus out of order',
      'compounds:\n  x:\n    bottom: 0.8\n    top: 0.5\n    ic50Micromolar: { U2OS: 1 }\n',
      /bottom.*below top/,
    ],
    [
      'an unphysical doubling time',
      'cellLines:\n  Z: { doublingHours: 1.0e-9, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 }\n',
      /doublingHours/,
    ],
    ['a list at the top', '- a\n', /top level.*mapping/],
  ])('refuses %s, naming the field', (_label, text, pattern) => {
    expect(() => loadLabProfileFile(write(text))).toThrow(pattern);
  });

  it('refuses a path that is not a regular file, without reading it', () => {
    expect(() => loadLabProfileFile('/dev/zero')).toThrow(/labProfile.*not a regular file/);
    expect(() => loadLabProfileFile(tmpdir())).toThrow(/not a regular file/);
    expect(() => loadLabProfileFile('/nonexistent/profile.yaml')).toThrow(/ENOENT/);
  });
});

describe("a top dose checked by the rule of the lab's own liquid handler", () => {
  it('refuses before start what an Opentrons Flex would refuse at the dose step (DMSO kept at 0.5%)', () => {
    const profile = builtinLabProfile();
    const items = stockForProfile(profile).map((d) => ({
      ...d,
      reorderLevel: d.reorderLevel ?? 0,
      description: d.description ?? '',
      updatedAt: '',
    }));
    const flex = virtualLabCatalogue({
      profile,
      items,
      labConfig: builtinLabConfig(),
      drivers: { 'liquid-handler': 'opentrons-flex' },
    });
    // Staurosporine is stocked at 1 mM: by volume it makes 90.9 µM, at 0.5% DMSO only 5 µM.
    const config = testConfig({ doseRange: { minMicromolar: 0.001, maxMicromolar: 10 } });
    expect(problems(checkConfigAgainstLab(config, catalogueOf()))).toBe('');
    expect(problems(checkConfigAgainstLab(config, flex))).toMatch(
      /doseRange.maxMicromolar.*at most 5 µM.*0\.5% DMSO.*allowed: at most 5\b/,
    );
    const within = testConfig({ doseRange: { minMicromolar: 0.001, maxMicromolar: 5 } });
    expect(problems(checkConfigAgainstLab(within, flex))).toBe('');
  });
});
