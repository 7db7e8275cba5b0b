import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerFromEnv } from '../src/util/logger.js';

/** README.md "Command line": human-readable by default, JSON lines with LOG_FORMAT=json, level by LOG_LEVEL. */

function capture(): { destination: DestinationStream; lines: () => string[] } {
  let out = '';
  return {
    destination: { write: (line: string) => void (out += line) },
    lines: () => out.split('\n').filter((l) => l !== ''),
  };
}

function logAllLevels(env: NodeJS.ProcessEnv): string[] {
  const out = capture();
  const log = loggerFromEnv(env, { destination: out.destination }).child({ module: 'app' });
  log.trace('t-line');
  log.debug('d-line');
  log.info('i-line');
  log.warn('w-line');
  log.error('e-line');
  return out.lines();
}

describe('loggerFromEnv', () => {
  it('logs at info in pretty format by default', () => {
    const lines = logAllLevels({});
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/INFO: \[app\] i-line$/);
    expect(lines[2]).toMatch(/ERROR: \[app\] e-line$/);
  });

  it('honours LOG_LEVEL and LOG_FORMAT=json', () => {
    const lines = logAllLevels({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'd-line',
      'i-line',
      'w-line',
      'e-line',
    ]);
    expect(logAllLevels({ LOG_LEVEL: 'WARN', LOG_FORMAT: 'json' })).toHaveLength(2);
    expect(logAllLevels({ LOG_LEVEL: 'trace', LOG_FORMAT: 'json' })).toHaveLength(5);
    expect(logAllLevels({ LOG_LEVEL: 'silent' })).toEqual([]);
  });

  it('falls back to info and pretty on unknown values and says so', () => {
    const lines = logAllLevels({ LOG_LEVEL: 'verbose', LOG_FORMAT: 'xml' });
    expect(lines.filter((l) => l.includes('unknown LOG_LEVEL, using info'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('unknown LOG_FORMAT, using pretty'))).toHaveLength(1);
    expect(lines.filter((l) => /-line$/.test(l))).toHaveLength(3);
  });
});
