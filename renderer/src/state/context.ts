import { createContext, useContext } from 'react';
import type { ClusterApi } from '../../../nodes/control/api.js';
import type { ClusterStore } from './store.js';

export interface AppContextValue {
  api: ClusterApi;
  store: ClusterStore;
  mode: 'electron' | 'browser';
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('AppContext missing');
  return v;
}
