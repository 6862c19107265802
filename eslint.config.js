import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

/**
 * Layers (docs/architecture.md): each may import values from its own layer and the ones below it,
 * never from a layer above. `import type` may cross (a type is no runtime dependency).
 *   4  client, workers, devserver        processes a person or a host starts
 *   3  workflows, activities, telemetry  Temporal code
 *   2  lab, learner, inventory, instruments, report   the lab, the science, the records
 *   1  domain, config, temporal          shared definitions
 */
// Relative specifiers only ('../client/cli', '../../lab/plate'), so packages such as @temporalio/client never match.
const dirs = (...names) => names.flatMap((n) => ['..', '../..'].flatMap((up) => [`${up}/${n}`, `${up}/${n}/**`]));
const ABOVE_LAYER_3 = dirs('client', 'workers', 'devserver');
const ABOVE_LAYER_2 = [...ABOVE_LAYER_3, ...dirs('workflows', 'activities', 'telemetry')];
const ABOVE_LAYER_1 = [...ABOVE_LAYER_2, ...dirs('lab', 'learner', 'inventory', 'instruments', 'report')];
const layerRule = (group, layer) => ({
  group,
  allowTypeImports: true,
  message: `layer ${layer} may not import values from a layer above it (see docs/architecture.md)`,
});

/**
 * Every module the workflow bundle loads: src/workflows and what it imports for its values
 * (test/unit/lint-layers.test.ts recomputes this closure and fails if a module is missing here).
 */
export const WORKFLOW_BUNDLE_FILES = [
  'src/workflows/**/*.ts',
  'src/domain/**/*.ts',
  'src/temporal/messages.ts',
  'src/temporal/search-attributes.ts',
  'src/temporal/task-queues.ts',
  'src/lab/plate.ts',
  'src/telemetry/workflow-interceptors.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', 'var/**', 'dist/**', 'bench/results/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      // A forgotten await on an activity or timer is a real bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'import-x/no-cycle': 'error',
    },
  },
  // --- Layers ---
  {
    files: ['src/domain/**/*.ts', 'src/config/**/*.ts', 'src/temporal/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layerRule(ABOVE_LAYER_1, 1)] }] },
  },
  {
    files: ['src/{lab,learner,inventory,instruments,report}/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layerRule(ABOVE_LAYER_2, 2)] }] },
  },
  {
    files: ['src/{activities,telemetry}/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layerRule(ABOVE_LAYER_3, 3)] }] },
  },
  {
    // Workflows are layer 3 too, and import activity modules for their types only.
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            layerRule(ABOVE_LAYER_3, 3),
            { group: dirs('activities'), allowTypeImports: true, message: 'workflows may import activity types only' },
          ],
        },
      ],
    },
  },
  {
    // The CLI talks to Temporal and reads the lab only through it: activity code never runs in it.
    files: ['src/client/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: dirs('activities'), message: 'the CLI imports no activity module' }] },
      ],
    },
  },
  {
    // The workflow bundle is replayed in a deterministic sandbox: no Node built-ins, no runtime-only modules.
    files: WORKFLOW_BUNDLE_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules
            .flatMap((m) => [m, `node:${m}`])
            .map((name) => ({
              name,
              message: 'Node built-ins are not available in the workflow sandbox',
            })),
          patterns: [
            {
              group: ['**/lab/virtual-lab', '**/lab/lab-store', '**/lab/sqlite', ...dirs('devserver', 'client')],
              message: 'runtime-only module in workflow code',
            },
            { group: ['better-sqlite3', 'yaml'], message: 'runtime-only package in workflow code' },
          ],
        },
      ],
    },
  },
);
