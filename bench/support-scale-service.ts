/**
 * The simulated Qobuz service for bench/scale, in a child process of its own (spawned by
 * support-scale-fleet.ts) so that the bench process holds only what the bridge would: the
 * players. The service records every frame it receives, which would otherwise count in the
 * players' RSS and CPU. Driven over the IPC channel: `{ id, op, ... }` -> `{ id, ok, result }`.
 */
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { QconnectService } from '../test/support/qconnect-service.js';
import { ReportWatch } from './support-report-watch.js';

export type ServiceRequest =
  | { id: number; op: 'issue' }
  | { id: number; op: 'join'; sessionId: string; uuid: string }
  | { id: number; op: 'play'; sessionId: string; rendererId: number; trackIds: number[] }
  | { id: number; op: 'command'; sessionId: string; rendererId: number; pause: boolean }
  | { id: number; op: 'stats' };

export type ServiceReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ScaleStats {
  /** Renderer connections open now. */
  readonly open: number;
  /** Payload frames received from renderers since start. */
  readonly payloadFrames: number;
}

const service = new QconnectService();

async function handle(req: ServiceRequest): Promise<unknown> {
  switch (req.op) {
    case 'issue':
      return service.issueToken({ expiresInSeconds: 24 * 3600 });
    case 'join': {
      const sim = service.session(req.sessionId);
      const rid = await sim.waitForRenderer(req.uuid, { timeoutMs: 20_000 });
      await sim.waitFor(() => sim.activeRendererId === rid, { timeoutMs: 20_000, what: 'renderer active' });
      return rid;
    }
    case 'play': {
      const sim = service.session(req.sessionId);
      const watch = new ReportWatch(service, req.rendererId);
      const mark = watch.mark();
      sim.loadQueue(req.trackIds);
      sim.jump(0, { playing: true });
      await watch.next(mark, (s) => s.playing_state === qconnect.PlayingState.PLAYING, 20_000);
      return null;
    }
    case 'command': {
      const sim = service.session(req.sessionId);
      const watch = new ReportWatch(service, req.rendererId);
      const want = req.pause ? qconnect.PlayingState.PAUSED : qconnect.PlayingState.PLAYING;
      const mark = watch.mark();
      const t0 = performance.now();
      if (req.pause) sim.pause();
      else sim.play();
      return (await watch.next(mark, (s) => s.playing_state === want, 20_000)) - t0;
    }
    case 'stats': {
      const renderers = service.connections().filter((c) => c.rendererId !== undefined);
      const stats: ScaleStats = {
        open: renderers.filter((c) => c.phase !== 'closed').length,
        payloadFrames: renderers.reduce((n, c) => n + c.frames.filter((f) => f.type === 'PAYLOAD').length, 0),
      };
      return stats;
    }
  }
}

await service.start();
process.on('message', (req: ServiceRequest) => {
  handle(req).then(
    (result) => process.send?.({ id: req.id, ok: true, result } satisfies ServiceReply),
    (err: unknown) =>
      process.send?.({
        id: req.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies ServiceReply),
  );
});
process.on('disconnect', () => {
  void service.stop().finally(() => process.exit(0));
});
process.send?.({ id: 0, ok: true, result: service.endpoint } satisfies ServiceReply);
