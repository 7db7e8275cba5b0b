import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';

/**
 * `qobuz-connect-bridge check-config FILE` (README.md "Command line"): every problem
 * on its own line with its path; on success one summary line. The CLI prints the
 * lines and exits 1 when `ok` is false.
 */
export interface CheckConfigResult {
  ok: boolean;
  lines: string[];
}

export function checkConfig(file: string, env: NodeJS.ProcessEnv): CheckConfigResult {
  try {
    const config = loadConfig({ file, env });
    const players = config.players.map((p) => `${p.id} (${p.uuid})`).join(', ');
    const broker =
      config.mqtt.url === null
        ? `embedded broker on ${config.mqtt.embedded_bind}:${config.mqtt.embedded_port}`
        : 'external broker';
    return { ok: true, lines: [`${file}: valid; players: ${players}; MQTT: ${broker}`] };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, lines: [...err.issues] };
    throw err;
  }
}
