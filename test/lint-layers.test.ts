import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** docs/conventions.md "Layers", enforced by eslint.config.js: util <- core <- adapters <- app <- main. */
async function violations(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint();
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the import-direction rule (issue #2)', () => {
  it('refuses an adapter importing another adapter, core importing an adapter, util importing core', async () => {
    expect(await violations('src/mqtt/x.ts', "import { MpdPlayer } from '../mpd/mpd-player.js';\nexport const x = MpdPlayer;\n")).toHaveLength(1);
    expect(await violations('src/core/x.ts', "import { Bridge } from '../app/bridge.js';\nexport const x = Bridge;\n")).toHaveLength(1);
    expect(await violations('src/core/y.ts', "import { QobuzApi } from '../qobuz/qobuz-api.js';\nexport const y = QobuzApi;\n")).toHaveLength(1);
    expect(await violations('src/util/x.ts', "import { QcbError } from '../core/qcb-error.js';\nexport const x = QcbError;\n")).toHaveLength(1);
  }, 30_000);

  it('keeps the diagnostics module beside the adapters: none imports it, it imports none but protocol (issue #21)', async () => {
    expect(await violations('src/cloud/x.ts', "import { Diagnostics } from '../diagnostics/diagnostics.js';\nexport const x = Diagnostics;\n")).toHaveLength(1);
    expect(await violations('src/mpd/x.ts', "import { Diagnostics } from '../diagnostics/diagnostics.js';\nexport const x = Diagnostics;\n")).toHaveLength(1);
    expect(await violations('src/diagnostics/x.ts', "import { MpdPlayer } from '../mpd/mpd-player.js';\nexport const x = MpdPlayer;\n")).toHaveLength(1);
    expect(await violations('src/diagnostics/x.ts', "import { Bridge } from '../app/bridge.js';\nexport const x = Bridge;\n")).toHaveLength(1);
    expect(await violations('src/diagnostics/x.ts', "import { decodeFrames } from '../protocol/frame-codec.js';\nexport const x = decodeFrames;\n")).toEqual([]);
    expect(await violations('src/app/x.ts', "import { Diagnostics } from '../diagnostics/diagnostics.js';\nexport const x = Diagnostics;\n")).toEqual([]);
  }, 30_000);

  it('keeps the session on util, core and protocol: no adapter, no app, at any depth (issue #22)', async () => {
    expect(await violations('src/session/x.ts', "import { MpdPlayer } from '../mpd/mpd-player.js';\nexport const x = MpdPlayer;\n")).toHaveLength(1);
    expect(await violations('src/session/x.ts', "import { QconnectLink } from '../cloud/qconnect-link.js';\nexport const x = QconnectLink;\n")).toHaveLength(1);
    expect(await violations('src/session/x.ts', "import { Bridge } from '../app/bridge.js';\nexport const x = Bridge;\n")).toHaveLength(1);
    expect(await violations('src/session/verbs/x.ts', "import { MqttAdapter } from '../../mqtt/mqtt-adapter.js';\nexport const x = MqttAdapter;\n")).toHaveLength(1);
    expect(await violations('src/session/inputs/x.ts', "import type { SessionTuning } from '../../app/session-tuning.js';\nexport type X = SessionTuning;\n")).toHaveLength(1);
    expect(await violations('src/session/queue/x.ts', "import { QobuzApi } from '../../qobuz/qobuz-api.js';\nexport const x = QobuzApi;\n")).toHaveLength(1);
    expect(await violations('src/mpd/x.ts', "import { PlayerSession } from '../session/player-session.js';\nexport const x = PlayerSession;\n")).toHaveLength(1);
    expect(await violations('src/core/x.ts', "import { SessionCore } from '../session/session-core.js';\nexport const x = SessionCore;\n")).toHaveLength(1);
    expect(await violations('src/session/verbs/x.ts', "import { QcbError } from '../../core/qcb-error.js';\nimport { decodeFrames } from '../../protocol/frame-codec.js';\nimport { SessionCore } from '../session-core.js';\nexport const x = [QcbError, decodeFrames, SessionCore];\n")).toEqual([]);
    expect(await violations('src/app/x.ts', "import { PlayerSession } from '../session/player-session.js';\nexport const x = PlayerSession;\n")).toEqual([]);
  }, 30_000);

  it('keeps handlers from saying anything on the wire themselves: only intents build renderer messages, only handle-input sends (issue #22)', async () => {
    const said = async (filePath: string, code: string): Promise<string[]> => {
      const [result] = await new ESLint().lintText(code, { filePath });
      return (result?.messages ?? [])
        .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
        .map((m) => m.message);
    };
    const builds = "import { volumeChanged } from '../../protocol/renderer-messages.js';\nexport const x = volumeChanged;\n";
    const sends = 'export function f(core: { send(m: unknown[]): void; apply(o: unknown): void }): void {\n  core.send([]);\n  core.apply({});\n}\n';
    expect(await said('src/session/inputs/x.ts', builds)).toHaveLength(1);
    expect(await said('src/session/verbs/x.ts', builds)).toHaveLength(1);
    expect(await said('src/session/session-watch.ts', "import { setActiveRenderer } from './../protocol/renderer-messages.js';\nexport const x = setActiveRenderer;\n")).toHaveLength(1);
    expect(await said('src/session/inputs/x.ts', sends)).toHaveLength(2);
    expect(await said('src/session/verbs/x.ts', sends)).toHaveLength(2);
    // The layer rule still holds there, and intents (and the loop's handler) may do both.
    expect(await said('src/session/verbs/x.ts', "import { MqttAdapter } from '../../mqtt/mqtt-adapter.js';\nexport const x = MqttAdapter;\n")).toHaveLength(1);
    expect(await said('src/session/intents/x.ts', builds)).toEqual([]);
    expect(await said('src/session/handle-input.ts', sends)).toEqual([]);
  }, 30_000);

  it('allows adapters on core and util, cloud on protocol, and app on everything', async () => {
    expect(await violations('src/mqtt/x.ts', "import { QcbError } from '../core/qcb-error.js';\nexport const x = QcbError;\n")).toEqual([]);
    expect(await violations('src/cloud/x.ts', "import { decodeFrames } from '../protocol/frame-codec.js';\nexport const x = decodeFrames;\n")).toEqual([]);
    expect(await violations('src/app/x.ts', "import { MpdPlayer } from '../mpd/mpd-player.js';\nexport const x = MpdPlayer;\n")).toEqual([]);
  }, 30_000);
});
