import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioConfigOf, readMpdAudioConfig } from '../src/mpd/mpd-audio-config.js';
import { applyFormat, playedFormat } from '../src/mpd/played-format.js';
import { parseEnabledOutputs } from '../src/mpd/mpd-status.js';

/** Issue #23, "the true format": what MPD's config makes of the decoder's format (pure rules). */
const HIRES = { sampleRateHz: 96_000, bitDepth: 24, channels: 2 };
const config = audioConfigOf;

describe("MPD's config and the played format (issue #23)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qcb-mpdconf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads outputs, their format and mixer, and what an include brings', async () => {
    await writeFile(join(dir, 'outputs.conf'), 'audio_output {\n  type "fifo"\n  name "snapcast"\n  format "48000:16:2" # snapserver\n}\n');
    await writeFile(
      join(dir, 'mpd.conf'),
      '# comment\nmusic_directory "/m"\nreplaygain "off"\ninclude "outputs.conf"\ninclude_optional "missing.conf"\n' +
        'audio_output {\n type "alsa"\n name "DAC"\n mixer_type "software"\n enabled "no"\n}\n',
    );
    const c = await readMpdAudioConfig(join(dir, 'mpd.conf'));
    expect(c.outputs).toEqual([
      { name: 'snapcast', type: 'fifo', format: '48000:16:2', mixerType: null, encoder: null, enabled: true },
      { name: 'DAC', type: 'alsa', format: null, mixerType: 'software', encoder: null, enabled: false },
    ]);
    await expect(readMpdAudioConfig(join(dir, 'nope.conf'))).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });

  it('judges only the outputs MPD has enabled now', () => {
    const c = config('audio_output {\n type "fifo"\n name "snapcast"\n format "48000:16:2"\n}\naudio_output {\n type "alsa"\n name "DAC"\n}\n');
    expect(playedFormat(HIRES, c, ['DAC'], null)).toEqual({ ...HIRES, stream: HIRES, bitPerfect: true });
    expect(playedFormat(HIRES, c, ['snapcast'], null)).toMatchObject({
      sampleRateHz: 48_000,
      bitDepth: 16,
      bitPerfect: false,
      notBitPerfect: ['converted to 16-bit / 48 kHz by output "snapcast"'],
    });
    expect(parseEnabledOutputs('outputid: 0\noutputname: snapcast\nplugin: fifo\noutputenabled: 0\noutputid: 1\noutputname: DAC\nplugin: alsa\noutputenabled: 1\n')).toEqual(['DAC']);
  });

  it('counts a global format, replay gain, normalisation, a lossy encoder and a quiet software mixer against it', () => {
    const c = config(
      'audio_output_format "*:16:*"\nreplaygain "album"\nvolume_normalization "yes"\n' +
        'audio_output {\n type "httpd"\n name "web"\n encoder "vorbis"\n mixer_type "software"\n}\n',
    );
    expect(playedFormat(HIRES, c, null, 80).notBitPerfect).toEqual([
      'converted to 16-bit / 96 kHz by audio_output_format',
      'replay gain (album)',
      'volume normalization',
      'software volume at 80 % on output "web"',
      'lossy encoder vorbis on output "web"',
    ]);
  });

  it('claims nothing without a config, without an enabled output, or with a format it cannot read', () => {
    expect(playedFormat(HIRES, null, null, 100).bitPerfect).toBeNull();
    const c = config('audio_output {\n type "alsa"\n name "DAC"\n format "dsd64:2"\n}\n');
    expect(playedFormat(HIRES, c, ['DAC'], null).bitPerfect).toBeNull();
    expect(playedFormat(HIRES, c, [], null).bitPerfect).toBeNull();
    expect(applyFormat(HIRES, '*:f:*')).toEqual({ ...HIRES, bitDepth: 32 });
  });
});
