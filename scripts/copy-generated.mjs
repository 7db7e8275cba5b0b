// tsc does not copy the generated protobufjs module (plain JS): put it beside the compiled codec.
// generated/*.ts (message-names.ts) is compiled by tsc like any source, so only the rest is copied.
import { cpSync } from 'node:fs';
cpSync('src/protocol/generated', 'dist/src/protocol/generated', {
  recursive: true,
  filter: (src) => !(src.endsWith('.ts') && !src.endsWith('.d.ts')),
});
