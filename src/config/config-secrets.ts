import type { Config } from './config-schema.js';

/**
 * The secret values of a configuration, for the log redactor (README.md "Command
 * line": the app secret, user auth token, MQTT password and diagnostics token never reach a log line).
 * loadConfig registers them as soon as the config is valid. The app id is public
 * (every Qobuz web player sends it) and is not listed.
 */
export function configSecrets(config: Config): string[] {
  const secrets = [
    config.qobuz.app_secret,
    config.qobuz.user_auth_token,
    config.mqtt.password,
    config.diagnostics.token,
    ...config.players.map((p) => p.mpd.password),
  ];
  if (config.mqtt.url !== null) {
    const { password } = new URL(config.mqtt.url);
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  return [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s !== ''))];
}
