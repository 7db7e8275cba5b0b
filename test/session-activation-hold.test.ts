import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { SimRenderer } from './support/qconnect-service.js';
import { startHarness, waitActive, type Harness } from './support/session-harness.js';

/**
 * Issue #21, SessionActivation.hold: a pause after a play that asked the service to make us active
 * holds the activation that follows only while our 63 can still be answered (the verb timeout,
 * 10 s). A hold must never linger: a 43 that comes later is the app's own pick, and takes over as
 * usual. The session's clock is moved on; the service keeps the real one and answers late.
 */
const State = qconnect.PlayingState;

let h: Harness | undefined;
let phone: SimRenderer | undefined;
afterEach(async () => {
  await phone?.close();
  phone = undefined;
  await h?.close();
  h = undefined;
});

describe('a pause while our 63 waits holds the activation only within the verb timeout (issue #21)', () => {
  it('refuses a pause 11 s after the 63 with ERR_NOT_ACTIVE, and the late activation takes over playing', async () => {
    let offsetMs = 0;
    h = await startHarness({ now: () => Date.now() + offsetMs });
    const rig = h;
    await waitActive(rig);
    rig.sim.loadQueue([111, 222]);
    rig.sim.jump(0, { playing: true });
    await rig.sim.waitFor(() => rig.session.view().state === 'playing', {
      what: 'our player playing',
      timeoutMs: 15_000,
    });

    phone = await SimRenderer.phone(rig.service.issueToken({ sessionId: rig.sim.sessionId }));
    const phoneId = phone.rendererId;
    rig.sim.pickRenderer(phoneId, { withSetState: true });
    rig.sim.jump(1, { playing: true });
    const phoneState = () => rig.sim.renderers().find((r) => r.rendererId === phoneId)?.lastState;
    await rig.sim.waitFor(
      () => phoneState()?.playingState === State.PLAYING && phoneState()?.currentQueueItemId === 1,
      {
        what: 'the phone playing item 1',
        timeoutMs: 15_000,
      },
    );
    await rig.session.idle();
    expect(rig.session.view().qobuzSession).toBe('connected');

    // Every frame of the service comes 2 s late: our 63's 43 too.
    rig.sim.setAnswerDelay(2_000);
    await rig.session.command({ action: 'play' });
    // On the session's clock the 63 is older than the verb timeout: nothing holds any more.
    offsetMs += 11_000;
    await expect(rig.session.command({ action: 'pause' })).rejects.toMatchObject({ code: 'ERR_NOT_ACTIVE' });

    // The 43 comes: the play stands, the phone's item plays here.
    await rig.sim.waitFor(
      () => rig.session.view().qobuzSession === 'active' && rig.session.view().state === 'playing',
      {
        what: 'our renderer active and playing',
        timeoutMs: 15_000,
      },
    );
    rig.sim.setAnswerDelay(0);
    expect(rig.session.view().queue.index).toBe(1);
  }, 60_000);
});
