// Lint rules, including the import direction of docs/ARCHITECTURE.md:
// base/ (clock, emitter, logger) imports nothing of the project; hal/ imports only base/; src/station never sees src/ocpp; the two OCPP adapters never see each other;
// src/http (status page, API, metrics) sees neither src/ocpp nor src/store.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map(([group, message]) => ({ group, message })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', '.build/**', 'node_modules/**', 'state/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['base/**/*.ts'],
    rules: restrict([[['**/src/**', '**/hal/**', '../src/*', '../hal/*', '../test/*'], 'base/ is a leaf: it imports nothing of the project']]),
  },
  {
    files: ['hal/**/*.ts'],
    rules: restrict([[['**/src/**', '../src/*', '../../src/*'], 'hal/ is a leaf: it imports nothing from src/']]),
  },
  {
    files: ['src/**/*.ts'],
    rules: restrict([
      [['**/devtools/**', '../devtools/*'], 'src/ ships without devtools/ (not in the package): load it with a dynamic import, as src/main.ts loadDevCsms does'],
    ]),
  },
  {
    files: ['src/station/**/*.ts'],
    rules: restrict([[['**/ocpp/**', '../ocpp/*', '../ocpp'], 'src/station never imports src/ocpp: define an interface the adapter implements']]),
  },
  {
    files: ['src/store/**/*.ts'],
    rules: restrict([[['**/ocpp/**', '**/station/**', '../station/*', '../ocpp/*'], 'src/store is below station and ocpp']]),
  },
  {
    files: ['src/http/**/*.ts'],
    rules: restrict([
      [
        ['**/ocpp/**', '../ocpp/*', '../ocpp', '**/store/**', '../store/*'],
        'src/http reads the station through src/station/api.ts and the link through src/http/sources.ts: it never imports src/ocpp or src/store',
      ],
    ]),
  },
  {
    files: ['src/ocpp/v16/**/*.ts'],
    rules: restrict([[['**/v201/**', '../v201/*'], 'the 1.6 adapter never imports the 2.0.1 adapter']]),
  },
  {
    files: ['src/ocpp/v201/**/*.ts'],
    rules: restrict([[['**/v16/**', '../v16/*'], 'the 2.0.1 adapter never imports the 1.6 adapter']]),
  },
  {
    files: ['src/ocpp/kit/**/*.ts'],
    rules: restrict([[['**/v16/**', '**/v201/**', '../v16/*', '../v201/*'], 'the adapter kit is shared by both adapters and imports neither']]),
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
