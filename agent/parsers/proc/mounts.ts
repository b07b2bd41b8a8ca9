// /proc/self/mounts (fstab format): `source mountpoint fstype options dump pass`. The kernel
// writes space, tab, newline and backslash inside a field as octal escapes (`\040`…).

export interface MountEntry {
  readonly source: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: string;
}

export function parseMounts(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !f[1]!.startsWith('/')) continue;
    mounts.push({
      source: unescapeMountField(f[0]!),
      mountPoint: unescapeMountField(f[1]!),
      fsType: unescapeMountField(f[2]!),
      options: f[3]!,
    });
  }
  return mounts;
}

/** `/media/pi/My\040Disk` → `/media/pi/My Disk`. */
export function unescapeMountField(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))) : field;
}
