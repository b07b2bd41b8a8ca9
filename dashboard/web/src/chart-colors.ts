// Colours for canvas charts: chart.js draws on a canvas, which CSS cannot style, so charts read
// the theme's custom properties (light or dark) and derive translucent fills from them.

/** A CSS custom property of the page's theme, or `fallback` where it is not set. */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** `#rrggbb` at the given opacity; other colour syntaxes are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
