// The desktop app's log file under plain Node: lines land in main.log with a time and a
// level, console output is copied into it, and a log grown too large is rotated at start.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAppLog, teeConsole } from '../../electron/log.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ivy-log-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('openAppLog', () => {
  it('appends timestamped lines with their level to main.log, indenting continuation lines', () => {
    const dir = join(tmp(), 'logs', 'nested');
    const log = openAppLog(dir, { now: () => new Date('2026-01-02T03:04:05.000Z') });
    log.write('info', 'started');
    log.write('error', 'c3 stderr: boom\nat x');
    expect(log.file).toBe(join(dir, 'main.log'));
    expect(readFileSync(log.file, 'utf8')).toBe('2026-01-02T03:04:05.000Z INFO  started\n2026-01-02T03:04:05.000Z ERROR c3 stderr: boom\n    at x\n');
  });

  it('keeps the previous log as main.old.log when it grew past the limit', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'main.log'), 'x'.repeat(100));
    const log = openAppLog(dir, { maxBytes: 50 });
    log.write('info', 'fresh');
    expect(readFileSync(join(dir, 'main.old.log'), 'utf8')).toBe('x'.repeat(100));
    expect(readFileSync(log.file, 'utf8')).toMatch(/INFO {2}fresh\n$/);
  });

  it('copies console output into the log and still prints it', () => {
    const dir = tmp();
    const log = openAppLog(dir);
    const printed: unknown[][] = [];
    const fake = { log: (...a: unknown[]) => printed.push(a), warn: (...a: unknown[]) => printed.push(a), error: (...a: unknown[]) => printed.push(a) };
    teeConsole(log, fake);
    fake.warn('ivy:', { pid: 12 });
    fake.error(new Error('failed'));
    const text = readFileSync(log.file, 'utf8');
    expect(text).toMatch(/WARN {2}ivy: \{"pid":12\}/);
    expect(text).toMatch(/ERROR Error: failed/);
    expect(printed).toHaveLength(2);
    expect(existsSync(join(dir, 'main.old.log'))).toBe(false);
  });
});
