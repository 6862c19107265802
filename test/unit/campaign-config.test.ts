import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MAX_CAMPAIGN_WELLS, parseCampaignYaml, resolveCampaignConfig } from '../../src/config/campaign-config';
import { ConfigError } from '../../src/config/validation';

const valid = {
  name: 'ic50-screen',
  cellLines: ['U2OS', 'HEK293T'],
  compounds: ['staurosporine', 'tunicamycin'],
  doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
  assay: 'viability',
  batchSize: 4,
  maxIterations: 3,
  budgetUsd: 100,
};

function problemsOf(text: string): string {
  try {
    parseCampaignYaml(text, 'config.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected the config to be refused');
}

const yamlWith = (patch: Record<string, unknown>, drop: string[] = []): string => {
  const merged: Record<string, unknown> = { ...valid, ...patch };
  for (const key of drop) delete merged[key];
  return stringify(merged);
};

describe('campaign config validation', () => {
  it('accepts the demo-shaped config and fills in defaults', () => {
    const config = parseCampaignYaml(stringify(valid), 'config.yaml');
    expect(config.objective).toEqual({ type: 'ic50', halfWidthLog10: 0.1 });
    expect(config.secondsPerLabHour).toBe(3600);
    expect(config.protocol).toEqual({ attachmentHours: 4, treatmentHours: 24 });
    expect(config.design).toBe('cross');
    expect(config.pairs.map((p) => `${p.cellLine}×${p.compound}`)).toEqual([
      'U2OS×staurosporine',
      'U2OS×tunicamycin',
      'HEK293T×staurosporine',
      'HEK293T×tunicamycin',
    ]);
  });

  it('uses 48 h treatment for imaging unless the protocol says otherwise', () => {
    expect(parseCampaignYaml(yamlWith({ assay: 'imaging' }), 'c').protocol.treatmentHours).toBe(48);
    expect(
      parseCampaignYaml(yamlWith({ assay: 'imaging', protocol: { treatmentHours: 72 } }), 'c').protocol.treatmentHours,
    ).toBe(72);
  });

  // Each bad config must name the field, show the bad value and say what is allowed.
  const cases: [string, string, RegExp[]][] = [
    ['malformed YAML', 'name: [unclosed', [/\(file\)/, /not valid YAML/]],
    ['a YAML list instead of a mapping', '- a\n- b', [/\(top level\)/, /mapping/]],
    ['a bare scalar', '42', [/\(top level\)/]],
    ['an empty file', '', [/\(top level\)/]],
    ['tabs and garbage', '\t::::\n\t- ]', [/not valid YAML/]],
    ['a missing name', yamlWith({}, ['name']), [/name/]],
    ['a name with spaces', yamlWith({ name: 'My Campaign' }), [/name/, /"My Campaign"/, /lower-case/]],
    ['a name that is a number', yamlWith({ name: 12 }), [/name/, /12/]],
    ['an over-long name', yamlWith({ name: 'a'.repeat(56) }), [/name/, /1-55/, /64-character fairness key/]],
    ['cellLines not a list', yamlWith({ cellLines: 'U2OS' }), [/cellLines/, /"U2OS"/]],
    ['no cell lines', yamlWith({ cellLines: [] }), [/cellLines/, /at least one cell line/]],
    ['no compounds', yamlWith({ compounds: [] }), [/compounds/, /at least one compound/]],
    ['a line listed twice', yamlWith({ cellLines: ['U2OS', 'U2OS'] }), [/cellLines\[1\]/, /listed twice/]],
    ['an unknown assay', yamlWith({ assay: 'western' }), [/assay/, /"western"/, /viability/]],
    [
      'a negative minimum dose',
      yamlWith({ doseRange: { minMicromolar: -1, maxMicromolar: 10 } }),
      [/doseRange.minMicromolar/, /-1/, /at least 0.000001 µM/],
    ],
    [
      'a zero minimum dose',
      yamlWith({ doseRange: { minMicromolar: 0, maxMicromolar: 10 } }),
      [/doseRange.minMicromolar/, /at least 0.000001 µM/],
    ],
    [
      'an inverted dose range',
      yamlWith({ doseRange: { minMicromolar: 10, maxMicromolar: 1 } }),
      [/doseRange.maxMicromolar/, /greater than minMicromolar/],
    ],
    [
      'an equal dose range',
      yamlWith({ doseRange: { minMicromolar: 1, maxMicromolar: 1 } }),
      [/doseRange.maxMicromolar/],
    ],
    [
      'a dose given as text',
      yamlWith({ doseRange: { minMicromolar: '1 uM', maxMicromolar: 10 } }),
      [/doseRange.minMicromolar/, /"1 uM"/],
    ],
    [
      'a NaN dose',
      'name: x\ncellLines: [U2OS]\ncompounds: [staurosporine]\ndoseRange: { minMicromolar: .nan, maxMicromolar: 10 }\nassay: viability\nbatchSize: 4\nmaxIterations: 3\nbudgetUsd: 100',
      [/doseRange.minMicromolar/, /NaN/],
    ],
    [
      'an infinite dose',
      'name: x\ncellLines: [U2OS]\ncompounds: [staurosporine]\ndoseRange: { minMicromolar: 0.1, maxMicromolar: .inf }\nassay: viability\nbatchSize: 4\nmaxIterations: 3\nbudgetUsd: 100',
      [/doseRange.maxMicromolar/, /Infinity/],
    ],
    [
      'an absurd maximum dose',
      yamlWith({ doseRange: { minMicromolar: 1, maxMicromolar: 1e9 } }),
      [/doseRange.maxMicromolar/, /100000/],
    ],
    ['batch size 0', yamlWith({ batchSize: 0 }), [/batchSize/, /0/]],
    ['batch size 10,000', yamlWith({ batchSize: 10000 }), [/batchSize/, /10000/, /96/]],
    ['a fractional batch size', yamlWith({ batchSize: 2.5 }), [/batchSize/, /2.5/, /whole number/]],
    [
      'a batch that overflows the plate with controls',
      yamlWith({ batchSize: 94 }),
      [/batchSize/, /96-well plate/, /at most 92/],
    ],
    ['zero iterations', yamlWith({ maxIterations: 0 }), [/maxIterations/]],
    ['negative budget', yamlWith({ budgetUsd: -50 }), [/budgetUsd/, /-50/]],
    ['zero budget', yamlWith({ budgetUsd: 0 }), [/budgetUsd/]],
    ['an absurd budget', yamlWith({ budgetUsd: 1e12 }), [/budgetUsd/, /1000000/]],
    ['a budget as text', yamlWith({ budgetUsd: '$100' }), [/budgetUsd/, /"\$100"/]],
    ['an unknown key', yamlWith({ budgte: 5 }), [/unknown key/, /"budgte"/]],
    [
      'an unknown nested key',
      yamlWith({ doseRange: { minMicromolar: 1, maxMicromolar: 10, unit: 'nM' } }),
      [/doseRange/, /"unit"/],
    ],
    ['an unknown objective', yamlWith({ objective: 'profit' }), [/objective/, /profit/]],
    [
      'a selectivity objective naming a line not in the campaign',
      yamlWith({ objective: { type: 'selectivity', killLine: 'HeLa', spareLine: 'U2OS' } }),
      [/objective.killLine/, /"HeLa"/, /one of the campaign's cell lines/],
    ],
    ['a negative seed', yamlWith({ seed: -3 }), [/seed/, /-3/]],
    ['a zero clock', yamlWith({ secondsPerLabHour: 0 }), [/secondsPerLabHour/]],
    ['a clock slower than real time', yamlWith({ secondsPerLabHour: 7200 }), [/secondsPerLabHour/, /3600/]],
    ['an unknown proposer', yamlWith({ proposer: 'random' }), [/proposer/, /"random"/, /space-filling/]],
    [
      'a lab profile in the campaign',
      yamlWith({ labProfile: 'my-lab.yaml' }),
      [/labProfile/, /lab worker/, /--profile FILE/],
    ],
    [
      'both a cross product and pairs',
      yamlWith({ pairs: [{ cellLine: 'U2OS', compound: 'staurosporine' }] }),
      [/pairs/, /not both/],
    ],
    [
      'a pair listed twice',
      yamlWith(
        {
          pairs: [
            { cellLine: 'U2OS', compound: 'x' },
            { cellLine: 'U2OS', compound: 'x' },
          ],
        },
        ['cellLines', 'compounds'],
      ),
      [/pairs\[1\]/, /listed twice/],
    ],
    ['no design at all', yamlWith({}, ['cellLines', 'compounds']), [/cellLines/, /pairs list/]],
    [
      'too many replicates for a plate',
      yamlWith({ batchSize: 40, replicates: 3 }),
      [/batchSize/, /replicate/, /allowed: at most/],
    ],
    [
      'a subnormal dose',
      yamlWith({ doseRange: { minMicromolar: 1e-320, maxMicromolar: 10 } }),
      [/doseRange.minMicromolar/, /1 pM/],
    ],
    ['too many controls', yamlWith({ controlsPerLine: 20 }), [/controlsPerLine/, /20/]],
    ['a huge file', `name: x\n# ${'x'.repeat(300 * 1024)}\n`, [/\(file\)/, /larger than 256 KiB/]],
    [
      'a YAML alias bomb',
      'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      [/./],
    ],
  ];

  it.each(cases)('refuses %s, naming the field and what is allowed', (_label, text, patterns) => {
    const message = problemsOf(text);
    for (const p of patterns) expect(message).toMatch(p);
  });

  it('resolves an explicit pairs list, each pair with its own or the default dose range', () => {
    const config = parseCampaignYaml(
      yamlWith(
        {
          pairs: [
            { cellLine: 'U2OS', compound: 'staurosporine' },
            { cellLine: 'HeLa', compound: 'cisplatin', doseRange: { minMicromolar: 0.1, maxMicromolar: 300 } },
          ],
          replicates: 2,
        },
        ['cellLines', 'compounds'],
      ),
      'c',
    );
    expect(config.design).toBe('pairs');
    expect(config.pairs.map((p) => `${p.cellLine}×${p.compound}:${p.doseRange.maxMicromolar}`)).toEqual([
      `U2OS×staurosporine:${valid.doseRange.maxMicromolar}`,
      'HeLa×cisplatin:300',
    ]);
    expect(config.cellLines).toEqual(['U2OS', 'HeLa']);
    expect(config.compounds).toEqual(['staurosporine', 'cisplatin']);
    expect(config.doseRange.maxMicromolar).toBe(300);
    expect(config.replicates).toBe(2);
  });
});

describe('a campaign bounded by what its history can carry', () => {
  it('refuses more iterations than MAX_CAMPAIGN_WELLS allows, naming the field, the value and the allowed range', () => {
    const base = {
      name: 'big',
      cellLines: ['U2OS'],
      compounds: ['staurosporine'],
      doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
      assay: 'viability' as const,
      batchSize: 94,
      budgetUsd: 1000,
    };
    // 94 treatments + 2 controls = 96 wells a batch: 156 batches fit 15,000 wells, 157 do not.
    expect(() => resolveCampaignConfig({ ...base, maxIterations: 156 }, 'big.yaml')).not.toThrow();
    const err = (() => {
      try {
        resolveCampaignConfig({ ...base, maxIterations: 157 }, 'big.yaml');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.message).toContain('maxIterations');
    expect(err.message).toContain('157');
    expect(err.message).toContain(`at most ${Math.floor(MAX_CAMPAIGN_WELLS / 96)}`);
  });
});
