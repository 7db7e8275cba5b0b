/**
 * Generates config.schema.json from the zod config schema (README.md "Configuration":
 * editors validate the file with it; docs/conventions.md principle 10: generated, never hand-written).
 * Run `npm run schema` after changing src/config/config-schema.ts; the test
 * test/config-schema-file.test.ts fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigSchema } from '../src/config/config-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../config.schema.json', import.meta.url));

/** The JSON Schema text of the configuration as a user writes it (io: 'input': defaulted keys are optional). */
export function generateConfigSchema(): string {
  const generated = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' });
  // Identity first, for people reading the file.
  const { $schema, title, description, ...rest } = generated;
  const schema = {
    $schema,
    $comment: 'Generated from src/config/config-schema.ts by `npm run schema`; do not edit.',
    title,
    description,
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(SCHEMA_FILE, generateConfigSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
