import { afterEach, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #12: without a user token, the app's token running out ends the session. MQTT says
 * `qobuz_session: expired` and one log line says what to do (README "MQTT topics"); the music
 * that played is not stopped by it.
 */
const B = 'qobuz-connect/living_room';
let h: BridgeHarness | undefined;
let probe: MqttProbe | undefined;
afterEach(async () => {
  await probe?.end();
  await h?.close();
  probe = undefined;
  h = undefined;
});

describe('the app token running out with no user token (issue #12)', () => {
  it('publishes qobuz_session "expired" and logs one line telling the user what to do', async () => {
    h = await startBridgeHarness({
      trackSeconds: [30],
      tokenSeconds: 3,
      dropLinksAtTokenExpiry: true,
      beforeBridge: async ({ mosquitto }) => {
        probe = await connectProbe(mosquitto!.url);
        await probe.subscribe(`${B}/state`);
      },
    });
    const { sim } = await h.connectApp();
    sim.loadQueue(h.trackIds);
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    const expired = await probe!.waitFor(
      (m) =>
        m.topic === `${B}/state` &&
        (JSON.parse(m.payload) as { qobuz_session?: string }).qobuz_session === 'expired',
      {
        timeoutMs: 20_000,
      },
    );
    expect(JSON.parse(expired.payload)).toMatchObject({ qobuz_session: 'expired' });
    const lines = h.logs.filter((l) => l.includes('token expired'));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: number; msg: string };
    expect(line.level).toBe(40);
    expect(line.msg).toMatch(/pick this speaker in the Qobuz app again/);
    expect(line.msg).toMatch(/qobuz\.user_auth_token/);
    // No reconnect with a dead token, and nothing stopped the speaker.
    expect(h.service.expiredDrops).toBe(1);
    expect((await h.mpd.status()).state).toBe('play');
  });
});
