// Lint: typescript-eslint's type-aware strict rules over the Node code (tsconfig.json) and the
// GUI (web/tsconfig.json). Floating and misused promises matter most here: the engine, agents
// and executors are long-lived processes where a promise nobody awaits loses its error.
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/**', '**/node_modules/**', 'test-artifacts/**', 'test/fixtures/**', 'bin/**', 'scripts/**/*.mjs', 'eslint.config.js'] }, ...tseslint.configs.strictTypeChecked, {
  languageOptions: {
    parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
  },
  rules: {
    // The code reads arrays with noUncheckedIndexedAccess on, and asserts with `!` where an index
    // is known in range (a loop bound, a split that always has a first field); the compiler
    // already refuses the unchecked read, so the rule would only trade `!` for noise.
    '@typescript-eslint/no-non-null-assertion': 'off',
    // Numbers and booleans in messages are the point of most templates here.
    '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    // `() => void x()` arrow shorthands in handlers are clear; statements are still checked.
    '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    // A leading underscore marks a binding kept on purpose: a field left out of a rest
    // (`{ model: _model, ...rest }`), a parameter an interface passes (a probe's `_nowMs`).
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    // Commands, route handlers, executors and test doubles implement async interfaces; some need
    // no await, and are async so that a throw is a rejection as in their siblings. Promises
    // themselves stay checked (no-floating-promises, no-misused-promises, await-thenable).
    '@typescript-eslint/require-await': 'off',
    // Metrics, settings and environments are records keyed by name that are read and written as
    // JSON; deleting a key is how one is dropped or renamed (a Map would be converted both ways).
    '@typescript-eslint/no-dynamic-delete': 'off',
    '@typescript-eslint/no-floating-promises': [
      'error',
      {
        // node:test's test() and its kin return a promise the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      },
    ],
  },
});
