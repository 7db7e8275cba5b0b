// Draws the add-on's icon.png (128x128) and logo.png (250x100): a "Q" ring with a tail and
// three connect waves, on a dark rounded tile. Home Assistant shows icon.png in the add-on
// store and logo.png on the add-on page. Run: node addon/dev/generate-images.mjs
// A tiny PNG encoder (RGBA, 8 bit, filter 0) on node:zlib: no image library needed.
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** PNG bytes of a width x height RGBA image given as rows of [r, g, b, a]. */
export function encodePng(width, height, pixelAt) {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixelAt(x, y);
      raw.set([r, g, b, a], y * (width * 4 + 1) + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bit, RGBA, deflate, filter 0, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const TILE = [24, 28, 38];
const INK = [255, 255, 255];
const ACCENT = [0, 170, 255];

/** Colour of the design at (u, v) in a unit square, or null for transparent. */
function glyph(u, v, withTile) {
  const dx = u - 0.42;
  const dy = v - 0.5;
  const r = Math.hypot(dx, dy);
  const ring = r > 0.2 && r < 0.29;
  // The Q's tail: a short bar down to the right.
  const t = (dx + dy) / Math.SQRT2;
  const n = (dx - dy) / Math.SQRT2;
  const tail = t > 0.16 && t < 0.38 && Math.abs(n) < 0.045;
  if (ring || tail) return INK;
  // Three waves to the right of the ring.
  for (const radius of [0.36, 0.45, 0.54]) {
    if (dx > 0.05 && Math.abs(dy) < dx * 0.9 && Math.abs(r - radius) < 0.025) return ACCENT;
  }
  if (!withTile) return null;
  const edge = 0.18; // corner radius of the tile
  const cx = Math.min(Math.max(u, edge), 1 - edge);
  const cy = Math.min(Math.max(v, edge), 1 - edge);
  return Math.hypot(u - cx, v - cy) <= edge ? TILE : null;
}

/** 4x4 supersampling for smooth edges. */
function render(width, height, sample) {
  return (x, y) => {
    let sum = [0, 0, 0];
    let covered = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const c = sample(x + (i + 0.5) / 4, y + (j + 0.5) / 4);
        if (c) {
          sum = sum.map((s, k) => s + c[k]);
          covered++;
        }
      }
    }
    if (covered === 0) return [0, 0, 0, 0];
    return [...sum.map((s) => Math.round(s / covered)), Math.round((covered / 16) * 255)];
  };
}

const here = new URL('..', import.meta.url);
writeFileSync(
  new URL('icon.png', here),
  encodePng(
    128,
    128,
    render(128, 128, (x, y) => glyph(x / 128, y / 128, true)),
  ),
);
/** The logo's right part: equalizer bars (a speaker playing), in the accent colour. */
const BARS = [0.35, 0.6, 0.85, 0.5, 0.75, 0.4, 0.65];
function bars(x, y) {
  const i = Math.floor((x - 112) / 19);
  if (i < 0 || i >= BARS.length || (x - 112) % 19 > 12) return null;
  const top = 50 - BARS[i] * 40;
  return y >= top && y <= 100 - top ? ACCENT : null;
}
writeFileSync(
  new URL('logo.png', here),
  encodePng(
    250,
    100,
    render(250, 100, (x, y) => (x < 100 ? glyph(x / 100, y / 100, true) : bars(x, y))),
  ),
);
process.stdout.write('wrote addon/icon.png and addon/logo.png\n');
