import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const readonly = (names) => Object.fromEntries(names.map((name) => [name, 'readonly']));

/** Globals of Node.js beyond the language's own, for the plain JavaScript scripts. */
const nodeGlobals = readonly([
  'AbortController',
  'AbortSignal',
  'Buffer',
  'URL',
  'URLSearchParams',
  'TextDecoder',
  'TextEncoder',
  'clearImmediate',
  'clearInterval',
  'clearTimeout',
  'console',
  'fetch',
  'performance',
  'process',
  'queueMicrotask',
  'setImmediate',
  'setInterval',
  'setTimeout',
  'structuredClone',
]);

/** Globals of the browser, for the progressive enhancements served to residents and staff. */
const browserGlobals = readonly([
  'AbortController',
  'CustomEvent',
  'Element',
  'Event',
  'FormData',
  'HTMLElement',
  'HTMLInputElement',
  'HTMLSelectElement',
  'HTMLFormElement',
  'IntersectionObserver',
  'MutationObserver',
  'URL',
  'URLSearchParams',
  'clearTimeout',
  'console',
  'document',
  'fetch',
  'localStorage',
  'location',
  'navigator',
  'requestAnimationFrame',
  'sessionStorage',
  'setTimeout',
  'window',
]);

export default defineConfig([
  globalIgnores(['dist/', 'data/', 'node_modules/', 'coverage/', 'test-results/', 'bench/results/', '**/*.njk']),
  js.configs.recommended,
  tseslint.configs.strict,
  {
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['src/**/public/**/*.js', 'src/**/public/**/*.mjs'],
    languageOptions: { globals: browserGlobals },
  },
]);
