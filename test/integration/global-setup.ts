// Real-process tests run the bundled node entry: build it once before any test.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-nodes.mjs'], { stdio: 'inherit' });
}
