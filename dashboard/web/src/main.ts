// Entry point: wires the live socket into the fleet store and shows the page the hash names.
// When the hub requires a login (any 401, see api.ts), the login view takes the page's place
// until the user logs in; then the route the hash names is shown and the socket reconnects.
import { getSession, logout, onAuthRequired } from './api.js';
import { ComparePage } from './compare-page.js';
import { DevicePage } from './device-page.js';
import { AlertsPage } from './alerts-page.js';
import { ExperimentsPage } from './experiments-page.js';
import { FleetPage } from './fleet-page.js';
import { LiveSocket, type SocketState } from './live-socket.js';
import { LoginPage } from './login-page.js';
import type { Page } from './page.js';
import { parseRoute, type Route } from './router.js';
import { StoragePage } from './storage-page.js';
import { FleetStore } from './store.js';

const store = new FleetStore();
let page: Page | null = null;
const socket = new LiveSocket();
socket.onFrame((f) => store.applyFrame(f));

// A red banner while the hub cannot save data (disk full, read-only…); gone when it recovers.
const hubBanner = document.createElement('div');
hubBanner.className = 'hub-banner';
hubBanner.setAttribute('role', 'alert');
hubBanner.hidden = true;
document.querySelector('.topbar')?.after(hubBanner);
socket.onFrame((f) => {
  if (f.type !== 'hub') return;
  hubBanner.hidden = f.status.writable;
  hubBanner.textContent = f.status.writable
    ? ''
    : `The hub cannot save data: ${f.status.reason ?? 'database writes fail'}. Agents keep their data until it recovers.`;
});

const conn = document.getElementById('conn');
const CONN_TEXT: Record<SocketState, string> = { open: 'live', connecting: 'connecting…', closed: 'reconnecting…' };
/** The login view while one is shown: no page, no socket. */
let loginView: LoginPage | null = null;
function showState(s: SocketState): void {
  document.body.dataset.socket = s;
  if (conn) {
    conn.textContent = loginView ? 'logged out' : CONN_TEXT[s];
    conn.dataset.state = loginView ? 'logged-out' : s;
  }
}
let wasOpen = false;
socket.onState((s) => {
  showState(s);
  // After a reconnect the snapshot refreshes the fleet; a live chart reloads to fill the gap.
  if (s === 'open' && wasOpen) page?.resync?.();
  if (s === 'open') wasOpen = true;
});
showState(socket.state);

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));

/** Marks the header link of the section shown. */
function markNav(route: Route): void {
  const section = route.page === 'alerts' ? 'alerts' : route.page === 'storage' ? 'storage' : route.page === 'experiments' || route.page === 'compare' ? 'experiments' : 'fleet';
  for (const a of document.querySelectorAll<HTMLElement>('.topnav [data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function createPage(route: Route): Page {
  switch (route.page) {
    case 'device':
      return new DevicePage(store, route.id, route.range, route.window, route.vs);
    case 'experiments':
      return new ExperimentsPage(store, route.device, route.name);
    case 'compare':
      return new ComparePage(store, route.ids, route.baseline);
    case 'alerts':
      return new AlertsPage(store);
    case 'storage':
      return new StoragePage();
    default:
      return new FleetPage(store);
  }
}

function show(route: Route): void {
  markNav(route);
  if (route.page === 'device' && page instanceof DevicePage && page.id === route.id) {
    page.setView(route);
    return;
  }
  if (route.page === 'experiments' && page instanceof ExperimentsPage) {
    page.setFilter(route.device, route.name);
    return;
  }
  if (route.page === 'compare' && page instanceof ComparePage && page.sameIds(route.ids)) {
    page.setBaseline(route.baseline);
    return;
  }
  page?.destroy();
  page = createPage(route);
  socket.subscribe(route.page === 'device' ? [route.id] : '*');
  if (route.page === 'fleet') document.title = 'Fleet · edgewatch';
  root.replaceChildren(page.el);
  page.mount();
  window.scrollTo(0, 0);
}

// "Log out" in the header, shown while a user is logged in (never on a hub without logins).
const logoutBtn = document.createElement('button');
logoutBtn.type = 'button';
logoutBtn.className = 'btn logout-btn';
logoutBtn.dataset.action = 'logout';
logoutBtn.textContent = 'Log out';
logoutBtn.hidden = true;
document.querySelector('.topbar')?.append(logoutBtn);
logoutBtn.addEventListener('click', () => {
  logoutBtn.disabled = true;
  void logout().then((r) => {
    logoutBtn.disabled = false;
    // 401: the session was gone already. Anything else failed: stay, and say so.
    if (r.ok || r.status === 401) showLogin('You are logged out.');
    else logoutBtn.title = r.status ? `Log out failed (HTTP ${r.status})` : 'Log out failed: the hub cannot be reached';
  });
});

function setAuth(state: 'user' | 'off' | 'required', user: string | null = null): void {
  document.body.dataset.auth = state;
  logoutBtn.hidden = state !== 'user';
  logoutBtn.title = user ? `Log out ${user}` : '';
}

/** Replaces the page with the login view; the hash (the route wanted) stays for afterwards. */
function showLogin(notice?: string): void {
  if (loginView) return;
  page?.destroy();
  page = null;
  loginView = new LoginPage({ onLoggedIn: enterApp, notice });
  socket.stop();
  wasOpen = false;
  setAuth('required');
  hubBanner.hidden = true;
  showState(socket.state);
  markNav({ page: 'fleet' });
  root.replaceChildren(loginView.el);
  loginView.mount();
  window.scrollTo(0, 0);
}

/** Shows the route the hash names and (re)connects the live socket. `user` null: no login needed. */
function enterApp(user: string | null): void {
  if (loginView) {
    loginView.destroy();
    loginView = null;
  }
  setAuth(user === null ? 'off' : 'user', user);
  show(parseRoute(location.hash));
  socket.start();
}

onAuthRequired(() => showLogin());
window.addEventListener('hashchange', () => {
  if (!loginView) show(parseRoute(location.hash));
});
// Ask first, so a hub that needs a login shows the form at once instead of a page of 401s.
void getSession().then((s) => {
  if (loginView) return;
  if (s.auth === 'required') showLogin();
  else enterApp(s.auth === 'user' ? s.user : null);
});
