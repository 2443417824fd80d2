// `ivy-cluster trace FILE --shiviz OUT`: converts a trace (DESIGN §6) to the log format
// ShiViz reads. Exit 0 on success, 2 when the input is unreadable or has bad lines (each
// reported with its line number).
import { existsSync } from 'node:fs';
import { convertTraceToShiviz, SHIVIZ_PARSER } from '../trace/shiviz.js';
import type { Out } from './up.js';

export interface TraceCommandOptions {
  shiviz?: string;
}

export async function runTraceCommand(file: string, opts: TraceCommandOptions, out: Out): Promise<number> {
  if (!opts.shiviz) {
    out.error('nothing to do: give --shiviz OUT (convert the trace to a ShiViz log)');
    return 2;
  }
  if (!existsSync(file)) {
    out.error(`error: no such file: ${file}`);
    return 2;
  }
  try {
    const r = await convertTraceToShiviz(file, opts.shiviz);
    if (!r.ok) {
      out.error(r.error);
      return 2;
    }
    out.log(`${opts.shiviz}: ${r.events} events${r.runs > 1 ? ` in ${r.runs} executions` : ''} for ShiViz (open it with "upload a file"; parser: ${SHIVIZ_PARSER})`);
    return 0;
  } catch (err) {
    out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}
