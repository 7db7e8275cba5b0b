import type { IncomingMessage } from 'node:http';

/** An HTTP failure the error middleware turns into `{"success": false, "error": …}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Reads a JSON body of at most `limitBytes` (docs/protocol.md §2: bodies over 64 KiB → 413),
 * counting while the stream flows so nothing past the limit is buffered. The declared
 * Content-Length is refused up front when it is already too big.
 *
 * Content-Type is checked by the route before (request-guard.ts: only application/json, 415
 * otherwise); whatever is not JSON is refused here with 400.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume(); // discard, never buffer
    throw new HttpError(413, `body larger than ${limitBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limitBytes) {
        cleanup();
        chunks.length = 0;
        req.resume(); // keep draining into nothing; the connection is closed after the answer
        reject(new HttpError(413, `body larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new HttpError(400, `body could not be read: ${err.message}`));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim().length === 0) throw new HttpError(400, 'body is empty (JSON object expected)');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message can quote the input; keep the answer generic.
    throw new HttpError(400, 'body is not valid JSON');
  }
}
