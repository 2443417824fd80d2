// Flag parsers for the CLI: every flag is checked, and a bad value is answered with
// a message that names the flag, the value and what is allowed.
import { InvalidArgumentError } from 'commander';
import { parseNemesisSpec, type NemesisSpec } from '../nemesis/spec.js';
import { parseScale, type ScaleShape } from '../bench/scale.js';

/** `bench --scale NxR[xS]`: clients, ops/s per client, seconds (default 15). */
export function scaleShape(value: string): ScaleShape {
  const shape = parseScale(value);
  if (!shape) throw new InvalidArgumentError(`expected CLIENTSxRATE or CLIENTSxRATExSECONDS (1-1024 clients, a rate up to 1000 ops/s, 1-3600 s), e.g. 128x10, got "${value}"`);
  return shape;
}

/** `--nemesis SPEC`: presets and link rules, comma-separated (nemesis/spec.ts parseNemesisSpec). */
export function nemesisSpec(value: string): NemesisSpec {
  try {
    return parseNemesisSpec(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export function intIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

export function numberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

const PROTOCOL_NAMES = ['ivy', 'isis'] as const;
type ProtocolName = (typeof PROTOCOL_NAMES)[number];

function protocolName(raw: string, value: string): ProtocolName {
  const p = raw.trim().toLowerCase();
  if ((PROTOCOL_NAMES as readonly string[]).includes(p)) return p as ProtocolName;
  throw new InvalidArgumentError(`expected ${PROTOCOL_NAMES.join(' or ')}${value.includes(',') ? ' in the comma list' : ''}, got "${raw.trim() || value}"`);
}

const MEMORY_MODES = ['volatile', 'recoverable', 'durable'] as const;

/** `--client-memory volatile|recoverable|durable` (DESIGN §3). */
export function clientMemory(value: string): (typeof MEMORY_MODES)[number] {
  const m = value.trim().toLowerCase();
  if ((MEMORY_MODES as readonly string[]).includes(m)) return m as (typeof MEMORY_MODES)[number];
  throw new InvalidArgumentError(`expected volatile, recoverable or durable, got "${value}"`);
}

/** `bench --client-memory volatile,recoverable,durable`: one mode, or a comma list of modes (each once) to compare. */
export function clientMemoryList(value: string): (typeof MEMORY_MODES)[number][] {
  const parts = value.split(',');
  if (parts.some((p) => p.trim() === '')) throw new InvalidArgumentError(`expected volatile, recoverable, durable or a comma list of them, got "${value}"`);
  const out: (typeof MEMORY_MODES)[number][] = [];
  for (const part of parts) {
    const m = clientMemory(part);
    if (out.includes(m)) throw new InvalidArgumentError(`client memory "${m}" is listed twice in "${value}"`);
    out.push(m);
  }
  return out;
}

/** `--protocol ivy|isis` for commands that run one cluster. */
export function oneProtocol(value: string): ProtocolName {
  if (value.includes(',')) throw new InvalidArgumentError(`expected one protocol (ivy or isis), got the list "${value}": only scenario and bench run several`);
  return protocolName(value, value);
}

/** `--protocol ivy,isis`: one or more protocols, each at most once, in the order given. */
export function protocolList(value: string): ProtocolName[] {
  const parts = value.split(',');
  if (parts.some((p) => p.trim() === '')) throw new InvalidArgumentError(`expected ivy, isis or a comma list such as ivy,isis, got "${value}"`);
  const out: ProtocolName[] = [];
  for (const part of parts) {
    const p = protocolName(part, value);
    if (out.includes(p)) throw new InvalidArgumentError(`protocol "${p}" is listed twice in "${value}"`);
    out.push(p);
  }
  return out;
}
