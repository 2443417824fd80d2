// Reads a trace file line by line (it may be far larger than memory wants to hold),
// validating every line; bad lines are reported with their line numbers.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { TraceRecordSchema, type TraceRecord } from './record.js';

export interface BadLine {
  line: number;
  message: string;
}

export type TraceLine = { ok: true; record: TraceRecord; line: number } | { ok: false; line: number; message: string };

/** Every non-blank line of the file, validated, in order. */
export async function* traceLines(file: string): AsyncGenerator<TraceLine> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      yield { ok: false, line, message: `not JSON (${err instanceof Error ? err.message : String(err)})` };
      continue;
    }
    const parsed = TraceRecordSchema.safeParse(json);
    if (parsed.success) yield { ok: true, record: parsed.data, line };
    else yield { ok: false, line, message: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ') };
  }
}

/** Calls `onRecord` for every valid line; returns the bad ones (at most `maxBad` kept, all counted). */
export async function readTrace(
  file: string,
  onRecord: (r: TraceRecord, line: number) => void,
  maxBad = 20,
): Promise<{ records: number; bad: BadLine[]; badCount: number }> {
  let records = 0;
  let badCount = 0;
  const bad: BadLine[] = [];
  for await (const l of traceLines(file)) {
    if (l.ok) {
      records++;
      onRecord(l.record, l.line);
    } else {
      badCount++;
      if (bad.length < maxBad) bad.push({ line: l.line, message: l.message });
    }
  }
  return { records, bad, badCount };
}

export function describeBadLines(file: string, bad: readonly BadLine[], badCount: number): string {
  const shown = bad.map((b) => `  ${file}:${b.line}: ${b.message}`).join('\n');
  return `${badCount} bad line${badCount === 1 ? '' : 's'} in ${file}:\n${shown}${badCount > bad.length ? `\n  … and ${badCount - bad.length} more` : ''}`;
}
