// `npm run test:load`: the whole suite with two busy-loop processes beside it, so a 2-core
// machine has no idle core left (issue #11). The suite must pass like this every time.
import { spawn } from 'node:child_process';

const busy = Array.from({ length: 2 }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const stopBusy = () => {
  for (const b of busy) b.kill('SIGKILL');
};
process.on('SIGINT', stopBusy);
process.on('SIGTERM', stopBusy);

const suite = spawn('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
suite.on('close', (code, signal) => {
  stopBusy();
  process.exit(code ?? (signal ? 1 : 0));
});
