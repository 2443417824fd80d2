#!/usr/bin/env node
// Thin launcher: the CLI is bundled to out/nodes/cli.js by `npm install` (prepare) or `npm run build:nodes`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/nodes/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('ivy-cluster is not built yet: run `npm run build:nodes` in the project folder.');
  process.exit(2);
}
await import(cli);
