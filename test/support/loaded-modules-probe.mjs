// Preloaded by test/idle-loading.test.ts: on SIGUSR2, one line `QCB_LOADED {json}` on stderr
// naming the packages whose CommonJS files the process has loaded, and how many numbers
// mqtt-packet has cached (docs/architecture.md "Memory at idle").
import Module from 'node:module';
import process from 'node:process';

process.on('SIGUSR2', () => {
  const packages = new Set();
  let mqttPacketCached = null;
  for (const [path, mod] of Object.entries(Module._cache)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const parts = path.slice(at + 'node_modules/'.length).split('/');
    packages.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
    if (path.endsWith('/mqtt-packet/numbers.js')) mqttPacketCached = Object.keys(mod.exports.cache).length;
  }
  process.stderr.write(`QCB_LOADED ${JSON.stringify({ packages: [...packages].sort(), mqttPacketCached })}\n`);
});
