import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';

/**
 * Writes a config for the command line's own tests: one player on loopback (HTTP, mDNS on `lo`,
 * the embedded broker on a free port) whose MPD port answers nothing. Start-up does not wait for
 * MPD, so the bridge runs, logs and records all the same.
 */
export async function writeSoloBridgeConfig(path: string): Promise<void> {
  writeFileSync(
    path,
    JSON.stringify({
      http: { port: 0, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
      mdns: { interfaces: ['lo'] },
      mqtt: { embedded_port: await freePort() },
      players: [{ id: 'solo', name: `Solo ${randomBytes(4).toString('hex')}`, mpd: { host: '127.0.0.1', port: await freePort() } }],
    }),
  );
}
