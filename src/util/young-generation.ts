import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by src/main.ts, before any other module loads (docs/architecture.md "Memory
 * at idle"): V8 doubles its young generation whenever many objects survive a scavenge, which
 * loading the bridge's modules does, up to 32 MB of RSS that it gives back only once its
 * memory reducer runs, about 30 s into an idle process. Kept at its initial size, the process
 * peaks near 90 MB instead of 110 MB; the bridge allocates little once running, so more
 * frequent (and shorter) scavenges cost nothing measurable. The flag is read at every growth
 * decision, so setting it at run time takes effect for everything after this line.
 */
setFlagsFromString('--semi-space-growth-factor=1');
