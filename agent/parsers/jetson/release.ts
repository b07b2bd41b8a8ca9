// /etc/nv_tegra_release: which L4T (Jetson Linux) release the board runs. Every release since
// R24 starts the file with `# R32 (release), REVISION: 7.4, GCID: …, BOARD: t210ref, EABI:
// aarch64, DATE: …`; R36 adds `# KERNEL_VARIANT: oot` and TARGET_USERSPACE_LIB_DIR lines.

export interface NvTegraRelease {
  /** e.g. `32.7.4`, `36.4.4`: the major from `R32`, then REVISION. */
  readonly l4t: string;
  /** e.g. `t210ref`, `t186ref` (R35 says so even on Orin), `generic` (R36). */
  readonly board?: string;
  readonly gcid?: string;
  readonly eabi?: string;
  /** As printed, e.g. `Fri Jun  9 04:25:08 UTC 2023`. */
  readonly date?: string;
  /** R36: `oot` (out-of-tree kernel modules). */
  readonly kernelVariant?: string;
  /** The JetPack this exact L4T release shipped in, where it is one of the well-known ones. */
  readonly jetpack?: string;
}

/**
 * L4T release → JetPack, exact releases only, as NVIDIA's JetPack archive lists them (the same
 * table as jetson-stats' NVIDIA_JETPACK). A minor is never guessed: L4T 35.1 was JetPack 5.0.2
 * and 35.2.1 was 5.1, so an unknown release gets no JetPack at all.
 */
const JETPACK_FOR_L4T: Readonly<Record<string, string>> = {
  '32.1.0': '4.2',
  '32.2.0': '4.2.1',
  '32.2.1': '4.2.2',
  '32.2.3': '4.2.3',
  '32.3.1': '4.3',
  '32.4.3': '4.4',
  '32.4.4': '4.4.1',
  '32.5.0': '4.5',
  '32.5.1': '4.5.1',
  '32.5.2': '4.5.1',
  '32.6.1': '4.6',
  '32.7.1': '4.6.1',
  '32.7.2': '4.6.2',
  '32.7.3': '4.6.3',
  '32.7.4': '4.6.4',
  '32.7.5': '4.6.5',
  '32.7.6': '4.6.6',
  '35.1.0': '5.0.2',
  '35.2.1': '5.1',
  '35.3.1': '5.1.1',
  '35.4.1': '5.1.2',
  '35.5.0': '5.1.3',
  '35.6.0': '5.1.4',
  '36.3.0': '6.0',
  '36.4.0': '6.1',
  '36.4.3': '6.2',
  '36.4.4': '6.2.1',
};

/** JetPack for an L4T release such as `32.7.4`, or undefined for one not in the table. */
export function jetpackForL4t(l4t: string): string | undefined {
  // R32.5 is written `REVISION: 5.0` and `REVISION: 5`; both mean 32.5.0.
  const parts = l4t.split('.');
  while (parts.length < 3) parts.push('0');
  return JETPACK_FOR_L4T[parts.join('.')];
}

const FIRST_LINE = /^#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+(?:\.\d+)*)(.*)$/m;

/** Parses /etc/nv_tegra_release; throws when the text has no `# R<n> (release), REVISION: …` line. */
export function parseNvTegraRelease(text: string): NvTegraRelease {
  const m = FIRST_LINE.exec(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  if (!m) {
    const first = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
    throw new Error(
      `not an nv_tegra_release file: expected a line like "# R32 (release), REVISION: 7.4, GCID: …, BOARD: t210ref, …", got ${JSON.stringify(first.slice(0, 80))}`,
    );
  }
  const l4t = `${m[1]}.${m[2]}`;
  const fields = new Map<string, string>();
  for (const part of (m[3] ?? '').split(',')) {
    const kv = /^\s*([A-Z_]+):\s*(.*?)\s*$/.exec(part);
    if (kv) fields.set(kv[1]!, kv[2]!);
  }
  const kernelVariant = /^#\s*KERNEL_VARIANT:\s*(\S+)/m.exec(text)?.[1];
  const jetpack = jetpackForL4t(l4t);
  const opt = (key: string, value: string | undefined) => (value ? { [key]: value } : {});
  return {
    l4t,
    ...opt('board', fields.get('BOARD')),
    ...opt('gcid', fields.get('GCID')),
    ...opt('eabi', fields.get('EABI')),
    ...opt('date', fields.get('DATE')),
    ...opt('kernelVariant', kernelVariant),
    ...opt('jetpack', jetpack),
  };
}
