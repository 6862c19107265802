import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The lint rules that keep the layers apart (docs/architecture.md) fire, and the ban on Node
 * built-ins covers every module the workflow bundle really loads, recomputed here from the
 * imports so a new module cannot slip past it.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

/** Modules reached from src/workflows/index.ts through value imports (type-only imports are erased). */
function workflowBundleModules(): string[] {
  const seen = new Set<string>();
  const stack = [join(root, 'src/workflows/index.ts')];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\s+(?!type\s)([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
      const named = /^\{([^}]*)\}$/.exec(m[1]!.trim());
      if (named && named[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
      const target = resolve(dirname(file), m[2]!);
      const found = [`${target}.ts`, join(target, 'index.ts')].find(existsSync);
      if (found) stack.push(found);
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

describe('lint: layers and the workflow sandbox', () => {
  it('bans Node built-ins in every module the workflow bundle loads', async () => {
    const modules = workflowBundleModules();
    expect(modules).toContain('src/workflows/campaign.ts');
    expect(modules).toContain('src/domain/costs.ts');
    for (const file of modules) {
      const config = (await eslint.calculateConfigForFile(join(root, file))) as { rules: Record<string, unknown> };
      expect(config.rules['no-restricted-imports'], `${file} is in the workflow bundle`).toBeDefined();
      expect(JSON.stringify(config.rules['no-restricted-imports'])).toContain('"node:fs"');
    }
  }, 60_000);

  it('flags a Node built-in and a runtime-only module in workflow code and in what it imports', async () => {
    expect(
      await messages(
        'src/workflows/campaign-state.ts',
        "import { readFileSync } from 'node:fs';\nreadFileSync('x');\n",
      ),
    ).toEqual([expect.stringMatching(/^no-restricted-imports: .*not available in the workflow sandbox/)]);
    expect(await messages('src/domain/prices.ts', "import { randomUUID } from 'crypto';\nrandomUUID();\n")).toEqual([
      expect.stringMatching(/^no-restricted-imports: /),
    ]);
    expect(await messages('src/lab/plate.ts', "import Database from 'better-sqlite3';\nvoid Database;\n")).toEqual([
      expect.stringMatching(/runtime-only package/),
    ]);
  }, 60_000);

  it('refuses value imports from a layer above, and allows types', async () => {
    const up = [
      ['src/domain/prices.ts', "import { stepConsumption } from '../inventory/consumption';\nvoid stepConsumption;\n"],
      ['src/config/lab-config.ts', "import { createVirtualLab } from '../lab/virtual-lab';\nvoid createVirtualLab;\n"],
      [
        'src/inventory/ledger.ts',
        "import { stockroomWorkflow } from '../workflows/stockroom';\nvoid stockroomWorkflow;\n",
      ],
      ['src/lab/biology.ts', "import { main } from '../client/cli';\nvoid main;\n"],
      [
        'src/activities/learner-activities.ts',
        "import { DEFAULT_LAB_DB } from '../workers/lab';\nvoid DEFAULT_LAB_DB;\n",
      ],
      [
        'src/workflows/stockroom.ts',
        "import { createInventoryActivities } from '../activities/inventory-activities';\nvoid createInventoryActivities;\n",
      ],
    ] as const;
    for (const [file, code] of up)
      expect(await messages(file, code), file).toEqual([
        expect.stringMatching(
          /^@typescript-eslint\/no-restricted-imports: .*(layer \d may not import|activity types only)/,
        ),
      ]);
    expect(
      await messages(
        'src/domain/prices.ts',
        "import type { StepUse } from '../inventory/consumption';\nexport type X = StepUse;\n",
      ),
    ).toEqual([]);
    // Downward and sideways are fine.
    expect(
      await messages('src/inventory/ledger.ts', "import { PRICES } from '../domain/prices';\nvoid PRICES;\n"),
    ).toEqual([]);
  }, 60_000);
});
