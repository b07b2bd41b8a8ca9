// Entry point: wires the live socket into the fleet store and shows the page the hash names.
import { ComparePage } from './compare-page.js';
import { DevicePage } from './device-page.js';
import { ExperimentsPage } from './experiments-page.js';
import { FleetPage } from './fleet-page.js';
import { LiveSocket, type SocketState } from './live-socket.js';
import type { Page } from './page.js';
import { parseRoute, type Route } from './router.js';
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
function showState(s: SocketState): void {
  document.body.dataset.socket = s;
  if (conn) {
    conn.textContent = CONN_TEXT[s];
    conn.dataset.state = s;
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
  const section = route.page === 'experiments' || route.page === 'compare' ? 'experiments' : 'fleet';
  for (const a of document.querySelectorAll<HTMLElement>('.topnav [data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function createPage(route: Route): Page {
  switch (route.page) {
    case 'device':
      return new DevicePage(store, route.id, route.range);
    case 'experiments':
      return new ExperimentsPage(store, route.device, route.name);
    case 'compare':
      return new ComparePage(store, route.ids, route.baseline);
    default:
      return new FleetPage(store);
  }
}

function show(route: Route): void {
  markNav(route);
  if (route.page === 'device' && page instanceof DevicePage && page.id === route.id) {
    page.setRange(route.range);
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

window.addEventListener('hashchange', () => show(parseRoute(location.hash)));
show(parseRoute(location.hash));
socket.start();
