import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import type { prettyFactory } from 'pino-pretty';
import { CENSOR, defaultRedactor, redactPaths, type Redactor } from './redactor.js';

/**
 * The one way to make the root logger (README.md "Command line": logs on stderr,
 * human-readable by default, JSON lines with LOG_FORMAT=json, level by LOG_LEVEL).
 *
 * Convention (docs/conventions.md principle 9): every module takes a `logger` in its options and
 * logs through ONE child per module and player, made by whoever builds it:
 *
 *     const log = root.child({ module: 'mpd', player: 'living_room' });
 *     log.debug({ host, port }, 'connecting');   // fields over prose
 *
 * `module` is the src/ folder (`mpd`, `cloud`, `mqtt`, `discovery`, `qobuz`, `app`),
 * `player` the configured player id (omitted for bridge-wide modules). Secrets never
 * need care at the call site: redaction (redactor.ts) applies to the message, every
 * field, every child's bindings, at every level. Register config secrets with
 * `registerSecret(value)` from redactor.ts, and values that change at runtime (a session's
 * tokens) with `Redactor.setSecrets(owner, values)`, which replaces the owner's previous ones.
 */

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface CreateLoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; default stderr (fd 2), written synchronously so nothing is lost on exit. */
  destination?: DestinationStream;
  /** Secret registry; default the process-wide one that `registerSecret` feeds. */
  redactor?: Redactor;
  /** Colours in pretty output; default: when stderr is a terminal and no destination is given. */
  colorize?: boolean;
  /**
   * Also gets every finished JSON line, already scrubbed (the bug-report bundle's ring of recent
   * log lines, README "Reporting a problem"). Must not throw and must be cheap.
   */
  tee?: (line: string) => void;
}

/** pino-pretty in-process and synchronous: each JSON line is formatted and written at once (no worker transport). */
function prettyDestination(destination: DestinationStream, colorize: boolean): DestinationStream {
  // Loaded only for pretty output (docs/architecture.md "Memory at idle"): LOG_FORMAT=json never
  // pays for pino-pretty and its dependencies. require() keeps logger creation synchronous.
  const { prettyFactory: factory } = createRequire(import.meta.url)('pino-pretty') as {
    prettyFactory: typeof prettyFactory;
  };
  const pretty = factory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'module,player',
    // "[mpd/living_room] connecting": the child bindings lead the message.
    messageFormat: (log, messageKey) => {
      const where = [log['module'], log['player']].filter((v) => typeof v === 'string').join('/');
      const msg = typeof log[messageKey] === 'string' ? (log[messageKey] as string) : '';
      return where ? `[${where}] ${msg}` : msg;
    },
  });
  return { write: (line: string) => destination.write(pretty(line)) };
}

/**
 * The last pass over each serialised JSON line, before formatting: child bindings
 * are serialised once when the child is made (pino runs no hook on them), and a
 * token may be registered after that. The patterns stop at quotes, so the JSON stays valid.
 */
function scrubbingDestination(
  destination: DestinationStream,
  redactor: Redactor,
  tee?: (line: string) => void,
): DestinationStream {
  if (!tee) return { write: (line: string) => destination.write(redactor.scrubString(line)) };
  return {
    write: (line: string) => {
      const scrubbed = redactor.scrubString(line);
      try {
        tee(scrubbed);
      } catch {
        // The ring is a convenience; the log line itself must still go out.
      }
      destination.write(scrubbed);
    },
  };
}

/**
 * The root logger with its redaction layers. main.ts goes through loggerFromEnv; tests call this
 * directly (a deliberate seam) to pick the level, the format and a destination to read back.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const { level = 'info', format = 'pretty', redactor = defaultRedactor } = options;
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  const colorize = options.colorize ?? (options.destination === undefined && isatty(2));
  const pinoOptions: PinoOptions = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: CENSOR },
    hooks: {
      // Every call on the root and on every child passes through here, before
      // pino interpolates and serialises: message, format arguments, fields, errors.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => redactor.scrub(arg)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
  };
  const output = format === 'json' ? destination : prettyDestination(destination, colorize);
  return pino(pinoOptions, scrubbingDestination(output, redactor, options.tee));
}

/** LOG_LEVEL (default info) and LOG_FORMAT (default pretty) from the environment; unknown values fall back with a warning. */
export function loggerFromEnv(
  env: NodeJS.ProcessEnv,
  options: Omit<CreateLoggerOptions, 'level' | 'format'> = {},
): Logger {
  const rawLevel = env['LOG_LEVEL']?.trim().toLowerCase() || 'info';
  const rawFormat = env['LOG_FORMAT']?.trim().toLowerCase() || 'pretty';
  const level = (LOG_LEVELS as readonly string[]).includes(rawLevel) ? (rawLevel as LogLevel) : 'info';
  const format = (LOG_FORMATS as readonly string[]).includes(rawFormat) ? (rawFormat as LogFormat) : 'pretty';
  const logger = createLogger({ ...options, level, format });
  if (level !== rawLevel)
    logger.warn({ LOG_LEVEL: rawLevel, allowed: LOG_LEVELS }, 'unknown LOG_LEVEL, using info');
  if (format !== rawFormat)
    logger.warn({ LOG_FORMAT: rawFormat, allowed: LOG_FORMATS }, 'unknown LOG_FORMAT, using pretty');
  return logger;
}
