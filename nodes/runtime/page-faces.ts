// What the telemetry page table shows of each page's bytes: the first 16 in hex (`preview`) and the
// workload token at its head (`token`). Kept per page with a copy of the head of the bytes it was made
// from, and made again only when that head changed: a lightly loaded client reports every telemetry
// tick, and hex-encoding and decoding every page it holds each time was most of a report's cost, for
// pages that had not changed since the last report.
import { decodeToken, TOKEN_SPAN } from '../core/token.js';

export interface PageFace {
  preview: string;
  token: string | null;
}

/** A page this client holds no copy of. */
export const NO_FACE: Readonly<PageFace> = Object.freeze({ preview: '', token: null });

const PREVIEW_BYTES = 16;

export class PageFaces {
  private readonly kept: ({ head: Uint8Array; face: PageFace } | undefined)[] = [];

  /** The face of `page` whose bytes are `bytes` (null: no copy). Equal to `faceOf(bytes)`, made only when the head changed. */
  of(page: number, bytes: Uint8Array | null): Readonly<PageFace> {
    if (!bytes) return NO_FACE;
    // The preview is bytes 0..15 and the token lies within bytes 0..TOKEN_SPAN-1: equal heads, equal face.
    const span = Math.min(bytes.byteLength, TOKEN_SPAN);
    const kept = this.kept[page];
    if (kept !== undefined && sameHead(kept.head, bytes, span)) return kept.face;
    const head = bytes.slice(0, span); // a copy: the page's bytes change in place
    const face = faceOf(head);
    this.kept[page] = { head, face };
    return face;
  }
}

/** Byte by byte (at most TOKEN_SPAN): no Buffer view per page and report, as a compare by Buffer.equals needed. */
function sameHead(head: Uint8Array, bytes: Uint8Array, span: number): boolean {
  if (head.byteLength !== span) return false;
  for (let i = 0; i < span; i++) if (head[i] !== bytes[i]) return false;
  return true;
}

/** The face of a page's bytes, made from scratch. */
export function faceOf(bytes: Uint8Array): PageFace {
  return { preview: Buffer.from(bytes.subarray(0, PREVIEW_BYTES)).toString('hex'), token: decodeToken(bytes) };
}
