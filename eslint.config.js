import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

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
  {
    // Workflow code is replayed in a deterministic sandbox: no Node built-ins, no runtime activity imports.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.flatMap((m) => [m, `node:${m}`]),
          patterns: [
            { group: ['**/activities/*', '!**/activities/*'], message: 'import activity types only (import type).' },
            {
              group: ['**/lab/virtual-lab', '**/lab/lab-store', '**/devserver/*', '**/client/*'],
              message: 'runtime-only module in workflow code',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/activities/*'], allowTypeImports: true, message: 'workflows may import activity types only' },
          ],
        },
      ],
    },
  },
);
