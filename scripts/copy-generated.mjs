// tsc does not copy the generated protobufjs module (plain JS): put it beside the compiled codec.
import { cpSync } from 'node:fs';
cpSync('src/protocol/generated', 'dist/src/protocol/generated', { recursive: true });
