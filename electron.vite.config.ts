// Three builds (electron-vite): the main process (ESM, out/main/index.js), the
// sandboxed preload (CommonJS — sandboxed preloads cannot be ES modules,
// out/preload/index.cjs) and the React renderer (out/renderer).
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const root = import.meta.dirname;

/**
 * index.html carries the strict CSP as a meta tag for production. The dev server
 * needs inline scripts and its own WebSocket for hot reload, so in dev only the
 * meta tag is dropped (the Electron main process sets no CSP header in dev either).
 */
function devCspPlugin(): Plugin {
  return {
    name: 'ivy:dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/i, '');
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        input: { index: resolve(root, 'electron/main.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { index: resolve(root, 'electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [react(), devCspPlugin()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      sourcemap: true,
      minify: true,
      rolldownOptions: {
        input: resolve(root, 'renderer/index.html'),
      },
    },
  },
});
