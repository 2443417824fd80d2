// Workload writes store a run-unique token ("c3:17") at the start of the page:
// one length byte, then UTF-8. A zero length byte means "never written", which is
// exactly what a fresh zero page holds.
const MAX_TOKEN = 255;
// One of each for the process, made on first use (not at load: a node's modules may come from a V8
// start-up snapshot): constructing a TextDecoder sets up a converter, and a client decoded the token of
// every page it holds for each telemetry report (and every read). Neither keeps state between calls (no
// streaming), so sharing them changes no result.
let utf8Encoder: TextEncoder | null = null;
let utf8Decoder: TextDecoder | null = null;

export function encodeToken(token: string): Uint8Array {
  const body = (utf8Encoder ??= new TextEncoder()).encode(token);
  if (body.byteLength === 0 || body.byteLength > MAX_TOKEN) throw new RangeError(`token must be 1..${MAX_TOKEN} bytes`);
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = body.byteLength;
  out.set(body, 1);
  return out;
}

/** Reads the token at the start of `bytes` (a page or a prefix of one); null for a never-written page. */
export function decodeToken(bytes: Uint8Array): string | null {
  const len = bytes[0] ?? 0;
  if (len === 0) return null;
  return (utf8Decoder ??= new TextDecoder()).decode(bytes.subarray(1, 1 + len));
}

export const TOKEN_SPAN = MAX_TOKEN + 1;
