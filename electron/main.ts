// The Electron main process: one window, a supervisor-owning ClusterService, the IPC
// glue, a strict Content-Security-Policy, a log file, and a lifecycle that stops every
// node process before the app exits.
import { BrowserWindow, Menu, app, dialog, ipcMain, nativeTheme, net, protocol, session, shell, type MenuItemConstructorOptions } from 'electron';
import { mkdirSync, promises as fsp } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClusterService } from '../nodes/control/service.js';
import { scenarioHooks } from '../nodes/control/scenarios/service-hooks.js';
import { CONTENT_SECURITY_POLICY } from '../nodes/control/serve.js';
import { noDisplayMessage } from './display.js';
import { registerIpc, type IpcEventLike } from './ipc.js';
import { openAppLog, teeConsole, type AppLog } from './log.js';
import { nodeLaunch } from './paths.js';

const here = dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = join(here, '..', 'renderer');
const PRELOAD = join(here, '..', 'preload', 'index.cjs');
/** electron-vite dev sets this; production loads the built files over app://. */
const DEV_URL = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
const APP_ORIGIN = 'app://ivy';
const SHUTDOWN_TIMEOUT_MS = 10_000;

// app://ivy/ serves out/renderer: a real origin ('self' in the CSP means something,
// unlike file://) and real response headers. Vite emits `<script type="module"
// crossorigin>`, which is fetched in CORS mode; corsEnabled keeps that working on every
// Electron version. Nothing but our own pages is ever loaded, so it exposes nothing.
protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
]);

// IVY_USER_DATA_DIR: a separate profile (settings, run folders, logs), e.g. for the
// packaged-app smoke test, so it neither collides with nor touches a user's own app.
// Otherwise the folders are fixed here rather than derived from whichever app name Electron
// picked up, so the README can say where they are: userData = <appData>/Ivy Cluster; logs in
// ~/Library/Logs/Ivy Cluster on macOS, <userData>/logs elsewhere.
const userDataOverride = process.env['IVY_USER_DATA_DIR'];
const userData = userDataOverride ? resolve(userDataOverride) : join(app.getPath('appData'), 'Ivy Cluster');
app.setPath('userData', userData);
app.setAppLogsPath(process.platform === 'darwin' && !userDataOverride ? join(app.getPath('home'), 'Library', 'Logs', 'Ivy Cluster') : join(userData, 'logs'));
const appLog: AppLog = openAppLog(app.getPath('logs'));
teeConsole(appLog);
console.log(
  `ivy: Ivy Cluster ${app.getVersion()} starting (${process.platform} ${process.arch}, Electron ${process.versions.electron}, ` +
    `${app.isPackaged ? 'packaged' : 'development'}); log ${appLog.file}`,
);
const noDisplay = noDisplayMessage({ platform: process.platform, env: process.env, execPath: process.execPath, resourcesPath: process.resourcesPath });
if (noDisplay) {
  // Before Chromium sets up its UI and dies with "Missing X server or $DISPLAY".
  console.error(noDisplay);
  process.exit(1);
}
if (app.commandLine.hasSwitch('no-sandbox')) {
  // Only the AppImage launcher passes this on its own, when the system forbids the user namespaces the sandbox needs.
  console.warn('ivy: the Chromium OS sandbox is off (--no-sandbox on the command line); contextIsolation and the renderer sandbox flag still apply');
}

if (!app.requestSingleInstanceLock()) {
  // The cluster uses fixed ports: a second instance would only collide with the first.
  app.quit();
}

let mainWindow: BrowserWindow | null = null;
let service: ClusterService | null = null;
let disposeIpc: (() => void) | null = null;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Serves out/renderer at app://ivy/ with the CSP as a real response header. */
function registerAppProtocol(): void {
  const root = resolve(RENDERER_DIR);
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    let pathname = decodeURIComponent(url.pathname);
    if (pathname === '/' || pathname === '') pathname = '/index.html';
    const file = resolve(root, `.${pathname}`);
    if (url.host !== 'ivy' || (file !== root && !file.startsWith(root + sep))) {
      return new Response('Not Found', { status: 404 });
    }
    try {
      const res = await net.fetch(pathToFileURL(file).toString());
      if (!res.ok) return new Response('Not Found', { status: 404 });
      return new Response(res.body, {
        status: 200,
        headers: {
          'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Security-Policy': CONTENT_SECURITY_POLICY,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    } catch {
      return new Response('Not Found', { status: 404 });
    }
  });
}

function hardenSession(): void {
  const ses = session.defaultSession;
  if (!DEV_URL) {
    // Belt and braces: every response (including anything loaded over http) carries the CSP.
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
      });
    });
  }
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

function isOurUrl(url: string): boolean {
  if (DEV_URL) return url.startsWith(new URL(DEV_URL).origin);
  return url.startsWith(`${APP_ORIGIN}/`);
}

app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (!isOurUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Ivy Cluster',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#12151a' : '#f5f6f8',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (DEV_URL) void win.loadURL(DEV_URL);
  else void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function exportCsvFromMenu(): Promise<void> {
  if (!service) return;
  const reply = await service.handle({ cmd: 'timingCsv' });
  if (!reply.ok || typeof reply.value !== 'string' || !reply.value) {
    void dialog.showMessageBox({
      type: 'info',
      message: 'No timing CSV yet',
      detail: reply.ok ? 'Run a scenario first (Scenarios view).' : reply.error,
    });
    return;
  }
  const res = await dialog.showSaveDialog({
    title: 'Export timing CSV',
    defaultPath: join(app.getPath('documents'), 'ivy-timings.csv'),
    filters: [{ name: 'CSV', extensions: ['csv'] }],
  });
  if (!res.canceled && res.filePath) await fsp.writeFile(res.filePath, reply.value, 'utf8');
}

function buildMenu(): void {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Export Timing CSV…', accelerator: 'CmdOrCtrl+E', click: () => void exportCsvFromMenu() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Cluster',
      submenu: [
        {
          label: 'Stop Cluster',
          accelerator: 'CmdOrCtrl+Shift+S',
          click: () => void service?.handle({ cmd: 'stopCluster' }),
        },
        {
          label: 'Cancel Scenario',
          click: () => void service?.handle({ cmd: 'cancelScenario' }),
        },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'forceReload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'Open Logs Folder',
          click: () => void shell.openPath(app.getPath('logs')),
        },
        {
          label: 'Keyboard Shortcuts',
          click: () =>
            void dialog.showMessageBox({
              type: 'info',
              message: 'Keyboard shortcuts',
              detail:
                'Alt+1 … Alt+7: switch view\nArrow keys in the view list: move between views\n' +
                'Ctrl/Cmd+E: export timing CSV\nCtrl/Cmd+Shift+S: stop the cluster',
            }),
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// --- lifecycle ------------------------------------------------------------------------

let shutdownState: 'running' | 'stopping' | 'done' = 'running';

async function shutdown(): Promise<void> {
  disposeIpc?.();
  disposeIpc = null;
  const s = service;
  service = null;
  if (!s) return;
  await Promise.race([
    s.close().catch((err: unknown) => console.error('ivy: stopping the cluster failed:', err)),
    new Promise<void>((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS)),
  ]);
  console.log('ivy: every node stopped; quitting');
}

app.on('before-quit', (event) => {
  if (shutdownState === 'done') return;
  event.preventDefault();
  if (shutdownState === 'stopping') return;
  shutdownState = 'stopping';
  void shutdown().finally(() => {
    shutdownState = 'done';
    app.quit();
  });
});

app.on('window-all-closed', () => {
  // The cluster belongs to the window: closing it stops the nodes, on every platform.
  app.quit();
});

app.on('second-instance', () => {
  if (mainWindow) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  }
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => app.quit());

void app.whenReady().then(() => {
  const launcher = nodeLaunch({
    isPackaged: app.isPackaged,
    appPath: app.getAppPath(),
    execPath: process.execPath,
    resourcesPath: process.resourcesPath,
  });
  const runRoot = join(app.getPath('userData'), 'runs');
  mkdirSync(runRoot, { recursive: true });
  service = new ClusterService({ launcher, runRoot, scenarios: scenarioHooks() });
  // The cluster's story (node exits, a node's stderr, failovers, command errors) goes to the log too.
  service.subscribe((push) => {
    if (push.type === 'event') appLog.write(push.event.level, `${push.event.kind}${push.event.node ? ` ${push.event.node}` : ''}: ${push.event.message}`);
  });
  const frameTrusted = (event: IpcEventLike) => isOurUrl(event.senderFrame?.url ?? '');
  const reg = registerIpc(
    ipcMain,
    service,
    {
      showSaveDialog: (options) =>
        mainWindow ? dialog.showSaveDialog(mainWindow, options) : dialog.showSaveDialog(options),
    },
    fsp,
    { isTrustedSender: frameTrusted, defaultDir: app.getPath('documents'), log: (l) => console.warn(`ivy: ${l}`) },
  );
  disposeIpc = () => reg.dispose();
  registerAppProtocol();
  hardenSession();
  buildMenu();
  mainWindow = createWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createWindow();
  });
});
