/// <reference types="vite/client" />
import type { ClusterApi } from '../../nodes/control/api.js';

declare global {
  interface Window {
    /** Exposed by the Electron preload script; absent in browser mode. */
    ivy?: ClusterApi;
  }
}

export {};
