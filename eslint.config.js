// Lint + the import-direction rule of docs/conventions.md "Layers":
// util <- core <- adapters (protocol, cloud, discovery, qobuz, mpd, mqtt, config) <- app <- main.ts.
// session (the player's state machine, src/session/) sits on util, core and protocol: it reaches every
// other adapter through the ports src/app hands it (types in core or session), and never imports app.
// Adapters never import each other, except cloud -> protocol.
// diagnostics (wire recorder, rings, bundle) sits beside the adapters: it uses util, core and protocol,
// and no adapter imports it (they expose wire taps, src/core/wire-tap.ts, that app wires to it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapters = ['protocol', 'cloud', 'discovery', 'qobuz', 'mpd', 'mqtt', 'config', 'snapcast'];

/** Patterns that forbid importing the named src/ folders from a sibling folder (or from one level deeper). */
function forbid(folders, why) {
  return folders.map((f) => ({ group: [`../${f}/*`, `../${f}`, `../../${f}/*`, `../../../${f}/*`], message: why }));
}

function layer(folder, forbidden, why) {
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...forbid(forbidden, why), { group: ['../main*', '../../main*', '../../../main*'], message: why }] },
      ],
    },
  };
}

const SESSION_LAYER =
  'the session imports util, core and protocol only: adapters reach it as ports src/app hands it (docs/architecture.md "Layers")';
const HANDLERS_SAY_NOTHING =
  'a handler sends nothing and builds no renderer message: it returns the Outcome of an intent (src/session/intents/; docs/architecture.md "Intents")';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/protocol/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**', 'src/main.ts'], rules: { 'no-console': 'off' } },
  { files: ['scripts/**/*.mjs', 'eslint.config.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  layer('util', ['core', 'app', 'session', 'diagnostics', ...adapters], 'util knows no domain: it imports nothing from src/ but util'),
  layer('core', ['app', 'session', 'diagnostics', ...adapters], 'core is pure: it imports only util'),
  ...adapters.map((a) =>
    layer(
      a,
      ['app', 'session', 'diagnostics', ...adapters.filter((b) => b !== a && !(a === 'cloud' && b === 'protocol'))],
      `adapters depend on core and util only (cloud may use protocol): ${a} must not import another adapter`,
    ),
  ),
  layer(
    'diagnostics',
    ['app', 'session', ...adapters.filter((b) => b !== 'protocol')],
    'diagnostics depend on util, core and protocol only: adapters reach them through wire taps',
  ),
  layer(
    'session',
    ['app', 'diagnostics', ...adapters.filter((b) => b !== 'protocol')],
    SESSION_LAYER,
  ),
  // docs/architecture.md "Intents": handlers (inputs/, verbs/, session-watch.ts) hand each input to an
  // intent and return its Outcome; only intents say what goes on the wire, and handle-input.ts sends it.
  {
    files: ['src/session/inputs/**/*.ts', 'src/session/verbs/**/*.ts', 'src/session/session-watch.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layer('session', ['app', 'diagnostics', ...adapters.filter((b) => b !== 'protocol')], SESSION_LAYER).rules[
              'no-restricted-imports'
            ][1].patterns,
            {
              group: ['**/protocol/renderer-messages.js', '**/protocol/renderer-messages'],
              message: HANDLERS_SAY_NOTHING,
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name=/^(send|apply)$/][callee.object.name='core']", message: HANDLERS_SAY_NOTHING },
      ],
    },
  },
);
