// `nvpmodel -q`: the Jetson power mode. It prints the mode's name on a labelled line and its
// number on the next one; Xavier-era boards with a fan profile print `NV Fan Mode:cool` first:
//   NV Fan Mode:cool
//   NV Power Mode: MAXN
//   0

export interface PowerMode {
  /** e.g. `MAXN`, `MAXN_SUPER`, `15W`, `MODE_30W_4CORE`. */
  readonly name: string;
  /** The mode number (`nvpmodel -m <id>`), when printed. */
  readonly id?: number;
}

/** Parses `nvpmodel -q` output; throws when there is no `NV Power Mode:` line. */
export function parseNvpmodel(text: string): PowerMode {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const at = lines.findIndex((l) => /^\s*NV Power Mode\s*:/i.test(l));
  if (at < 0) {
    const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
    throw new Error(`not nvpmodel -q output: expected a line "NV Power Mode: <name>", got ${JSON.stringify(first.slice(0, 80))}`);
  }
  const name = lines[at]!.replace(/^\s*NV Power Mode\s*:\s*/i, '').trim();
  if (name === '') throw new Error('nvpmodel -q printed "NV Power Mode:" without a mode name');
  // The number follows the name; warnings (`NVPM WARN: …`) may sit in between.
  const idLine = lines.slice(at + 1).find((l) => /^\s*\d+\s*$/.test(l));
  return idLine === undefined ? { name } : { name, id: Number(idLine.trim()) };
}
