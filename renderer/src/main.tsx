import './zod-csp.js'; // before anything that builds a zod schema
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/index.js';
import { App } from './App.js';
import { AppContext } from './state/context.js';
import { ClusterStore } from './state/store.js';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);
const conn = connect();

if (!conn.ok) {
  root.render(
    <main className="fatal" role="alert" data-testid="fatal">
      <h1>Ivy Cluster</h1>
      <p>{conn.error}</p>
    </main>,
  );
} else {
  const store = new ClusterStore(conn.api.status);
  conn.api.onStatus((s) => store.setConnection(s));
  conn.api.subscribe(store.push);
  root.render(
    <StrictMode>
      <AppContext.Provider value={{ api: conn.api, store, mode: conn.mode }}>
        <App />
      </AppContext.Provider>
    </StrictMode>,
  );
}
