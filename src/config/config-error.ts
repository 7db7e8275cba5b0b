import { QcbError } from '../core/qcb-error.js';

/**
 * An invalid configuration: every problem found, one line each with its path
 * (`players[1].mpd.port: expected integer 1-65535, got "66000"`), so the user fixes
 * them all in one go (README.md "Configuration"; the CLI exits 2 on it).
 */
export class ConfigError extends QcbError {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super('ERR_CONFIG_INVALID', `invalid configuration (${count}):\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}
