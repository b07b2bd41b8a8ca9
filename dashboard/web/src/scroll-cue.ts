// A horizontally scrolling table that says so: wrapped in a box that, while its content is
// wider than it, shows "scroll sideways" above and a fade on the side with more to see.
// data-overflow ("true"/"false") and data-at ("start", "middle", "end") on the box drive the
// CSS; a ResizeObserver and the scroll events keep them current. Returns the box and a
// function that stops watching.
import { h } from './dom.js';

export function scrollCue(wrap: HTMLElement, hint = 'Scroll sideways for more →'): { el: HTMLElement; dispose: () => void } {
  const el = h('div', { class: 'scroll-box', data: { overflow: 'false', at: 'start' } }, h('p', { class: 'scroll-hint', text: hint, attrs: { 'aria-hidden': 'true' } }), wrap);
  const update = () => {
    const over = wrap.scrollWidth > wrap.clientWidth + 1;
    el.dataset.overflow = over ? 'true' : 'false';
    const left = wrap.scrollLeft;
    el.dataset.at = !over || left <= 1 ? 'start' : left + wrap.clientWidth >= wrap.scrollWidth - 1 ? 'end' : 'middle';
  };
  wrap.addEventListener('scroll', update, { passive: true });
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(update) : null;
  ro?.observe(wrap);
  const table = wrap.firstElementChild;
  if (table) ro?.observe(table);
  requestAnimationFrame(update);
  return {
    el,
    dispose: () => {
      ro?.disconnect();
      wrap.removeEventListener('scroll', update);
    },
  };
}
