// Tiny DOM helpers. Everything the UI shows from the hub (device names, hostnames, sensor and
// interface names) is untrusted: it only ever reaches the page through textContent and
// attribute setters, never through innerHTML.

type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;

export interface Props {
  class?: string;
  /** data-* attributes, keys without the `data-` prefix. */
  data?: Record<string, AttrValue>;
  /** Other attributes (href, title, type, aria-*…). */
  attrs?: Record<string, AttrValue>;
  text?: string;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.data) setData(el, props.data);
    if (props.attrs) {
      for (const [k, v] of Object.entries(props.attrs)) setAttr(el, k, v);
    }
    if (props.text !== undefined) el.textContent = props.text;
    if (props.on) {
      for (const [type, fn] of Object.entries(props.on)) el.addEventListener(type, fn as EventListener);
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function setAttr(el: Element, name: string, value: AttrValue): void {
  if (value === null || value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : String(value));
}

export function setData(el: HTMLElement | SVGElement, data: Record<string, AttrValue>): void {
  for (const [k, v] of Object.entries(data)) setAttr(el, `data-${k}`, v);
}

/** Sets text only when it changed, so live updates do not churn the DOM. */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) setAttr(el, k, v);
  return el;
}

/**
 * Fills a device filter <select>: "All devices", then each [id, name] by name. The options are
 * rebuilt only when the list changed, so an open dropdown is not reset by a refresh.
 */
export function fillDeviceSelect(select: HTMLSelectElement, devices: Iterable<readonly [string, string]>, selected: string | null): void {
  const sorted = [...devices].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
  const key = JSON.stringify(sorted);
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    clear(select);
    select.append(h('option', { text: 'All devices', attrs: { value: '' } }));
    for (const [id, name] of sorted) select.append(h('option', { text: name === id ? id : `${name} (${id})`, attrs: { value: id } }));
  }
  select.value = selected ?? '';
}
