import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Reflection over proto/qconnect.proto (protobufjs full build), used by tests to build a
 * value for every field of every message independently of the generated static code.
 */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/qconnect.proto', import.meta.url));

let root: protobuf.Root | undefined;
export function protoRoot(): protobuf.Root {
  // keepCase: field names as on the wire, like the generated module (pbjs --keep-case).
  if (!root) {
    root = protobuf.parse(readFileSync(PROTO_PATH, 'utf8'), { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

/** A plain object with every field of `type` set to a non-default value (recursively, one level of repeats). */
export function fullySet(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const one = (i: number): unknown => sampleValue(field, i, depth);
    out[field.name] = field.repeated ? [one(0), one(1)] : one(0);
  }
  return out;
}

function sampleValue(field: protobuf.Field, i: number, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const values = Object.values(resolved.values).filter((v) => v !== 0);
    return values[i % values.length];
  }
  if (resolved instanceof protobuf.Type) return depth > 3 ? {} : fullySet(resolved, depth + 1);
  switch (field.type) {
    case 'bool':
      return true;
    case 'string':
      return `s${field.id}-${i}`;
    case 'bytes':
      return Uint8Array.of(field.id & 0xff, i, 0xab);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return i === 0 ? -1 - field.id : 1000 + field.id;
    case 'uint64':
    case 'fixed64':
    case 'int64':
      return i === 0 ? '18446744073709551615' : String(2 ** 53 + field.id);
    default:
      return 1000 + field.id + i;
  }
}
