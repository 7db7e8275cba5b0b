import { afterEach, describe, expect, it } from 'vitest';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import { BEHAVIOUR_VALUES, QconnectService, SERVICE_ERRORS } from './support/qconnect-service.js';
import { startHarness, type Harness } from './support/session-harness.js';

/**
 * Issue #21 part 1 (docs/protocol.md "Unknowns"), the unknowns that need no speaker: how the
 * service numbers queue versions, which code its type-1 errors carry, and how a background
 * reconnect joins. One session with an in-memory player against the simulated service, each
 * scenario under every setting.
 */
const open: Harness[] = [];
const services: QconnectService[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const s of services.splice(0)) await s.stop();
});

async function harness(
  o: Parameters<typeof startHarness>[0] & { service?: QconnectService } = {},
): Promise<Harness> {
  const h = await startHarness(o);
  open.push(h);
  return h;
}

async function serviceWith(
  behaviours: ConstructorParameters<typeof QconnectService>[0],
): Promise<QconnectService> {
  const s = new QconnectService(behaviours);
  await s.start();
  services.push(s);
  return s;
}

const ids = (items: ReadonlyArray<{ queueItemId: number; trackId: number }>) =>
  JSON.stringify(items.map((i) => [i.queueItemId, i.trackId]));

describe('queue version numbering (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.versionRule)(
    'with versionRule = %s: after every kind of edit the mirror holds the service queue and its version',
    async (rule) => {
      const service = await serviceWith({ behaviours: { versionRule: rule } });
      const h = await harness({ service });
      const same = () =>
        ids(h.session.queue.items) === ids(h.sim.queue().items) &&
        JSON.stringify(h.session.queue.version) === JSON.stringify(h.sim.queue().version);
      const edits: Array<[string, () => void]> = [
        ['load', () => h.sim.loadQueue([11, 22, 33])],
        ['add', () => h.sim.addTracks([44])],
        ['insert', () => h.sim.insertTracks([55], 0)],
        ['remove', () => h.sim.removeTracks([1])],
        ['reorder', () => h.sim.reorderTracks([3], -1)],
        ['shuffle', () => h.sim.setShuffle(true, { seed: 7 })],
        ['clear', () => h.sim.clearQueue()],
        ['load again', () => h.sim.loadQueue([66, 77])],
      ];
      for (const [what, edit] of edits) {
        edit();
        await h.sim.waitFor(same, { timeoutMs: 15_000, what: `the mirror after ${what} (${rule})` });
      }
      // Steps of two look like gaps: each is applied and then read again in full (76), never guessed.
      const resyncs = h.sim.sentOfType(h.rendererId, 76).length;
      if (rule === 'gaps') expect(resyncs).toBeGreaterThan(edits.length / 2);
    },
  );
});

describe('type-1 error codes (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(['400', '10400', 'NOT_JOINED', ''])(
    'with code "%s": "Not joined to a session" makes the session subscribe and join again on the same link',
    async (code) => {
      const h = await harness();
      const from = h.sim.sent(h.rendererId).length;
      const connections = h.service.connections().length;
      h.sim.sendError(h.rendererId, code, SERVICE_ERRORS.notJoined.message);
      await h.sim.waitForMessage(h.rendererId, 61, { after: from });
      expect(h.service.connections().length).toBe(connections);
    },
  );
});

describe('a background reconnect joins without taking playback (issue #21, docs/protocol.md §5.12)', () => {
  it.each(['renderer', 'controller'] as const)(
    'with joinMode = %s: the rejoin after a drop while not active asks for nothing active',
    async (joinMode) => {
      const h = await harness({ joinMode, becomeActive: false });
      await h.sim.waitForMessage(h.rendererId, 77);
      const from = h.sim.sent(h.rendererId).length;
      h.sim.dropConnection(h.rendererId);
      await h.sim.waitForMessage(h.rendererId, 77, { after: from, timeoutMs: 15_000 });
      const again = h.sim.sent(h.rendererId).slice(from);
      expect(again.map((m) => m.type)).not.toContain(63);
      if (joinMode === 'renderer') {
        // 21 has the fields: reason 2 (RECONNECTION) and is_active false.
        const join = again.find((m) => m.type === 21)?.body as qconnect.RndrSrvrJoinSession.$Properties;
        expect(join.reason).toBe(2);
        expect(join.is_active ?? false).toBe(false);
      } else {
        // 61 has neither field in our schema (proto/qconnect.proto): the rejoin is a plain 61, and no 63.
        expect(again.map((m) => m.type)).toContain(61);
      }
      expect(h.sim.activeRendererId).not.toBe(h.rendererId);
    },
  );
});

describe('a seek to 0, whose only field is a zero (issue #21, docs/protocol.md §8 "Zero values")', () => {
  it.each(BEHAVIOUR_VALUES.seekToZeroAs)(
    'with seekToZeroAs = %s: an empty 41 seeks to 0; one with the playing state keeps playing where it is (the safe failure)',
    async (form) => {
      const service = await serviceWith({ behaviours: { seekToZeroAs: form } });
      const h = await harness({ service });
      await h.sim.waitFor(() => h.sim.activeRendererId === h.rendererId, { what: 'active' });
      h.sim.loadQueue([111, 222]);
      h.sim.jump(1, { positionMs: 30_000, playing: true });
      await h.sim.waitFor(() => h.player.current?.queueItemId === 1 && h.player.positionMs() >= 30_000, {
        what: 'playing item 1 at 30 s',
      });
      // The service may not have read the reports of item 1 yet: a report made after the seek answers it.
      await h.sim.waitForMessage(h.rendererId, 23, { where: (b) => b.state?.current_queue_item_id === 1 });
      const from = h.sim.sent(h.rendererId).length;
      const sentAt = Date.now();
      h.sim.seek(0);
      // Either form is answered with a report (never silence), on item 1, still playing.
      const report = await h.sim.waitForMessage(h.rendererId, 23, {
        after: from,
        where: (b) => Number(b.state?.current_position?.timestamp?.toString() ?? 0) >= sentAt,
      });
      const position = report.body.state?.current_position?.value ?? 0;
      if (form === 'empty') expect(position).toBeLessThan(5000);
      else expect(position).toBeGreaterThanOrEqual(30_000);
      expect(report.body.state?.current_queue_item_id).toBe(1);
      expect(h.player.status).toBe('playing');
    },
  );
});
