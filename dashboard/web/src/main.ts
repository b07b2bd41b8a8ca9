// Entry point: wires the live socket into the fleet store and shows the page the hash names.
import { DevicePage } from './device-page.js';
import { FleetPage } from './fleet-page.js';
import { LiveSocket, type SocketState } from './live-socket.js';
import type { Page } from './page.js';
import { parseRoute, type Route } from './router.js';
import { FleetStore } from './store.js';

const store = new FleetStore();
let page: Page | null = null;
const socket = new LiveSocket();
socket.onFrame((f) => store.applyFrame(f));

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

function show(route: Route): void {
  if (route.page === 'device' && page instanceof DevicePage && page.id === route.id) {
    page.setRange(route.range);
    return;
  }
  page?.destroy();
  page = route.page === 'device' ? new DevicePage(store, route.id, route.range) : new FleetPage(store);
  socket.subscribe(route.page === 'device' ? [route.id] : '*');
  if (route.page === 'fleet') document.title = 'Fleet · edgewatch';
  root.replaceChildren(page.el);
  page.mount();
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', () => show(parseRoute(location.hash)));
show(parseRoute(location.hash));
socket.start();
