import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFilesystemCollector, type FsStats } from '../../agent/collectors/filesystem.js';
import { detectOrFail, FakeClock, sample, scenarioTree, type Tree } from './harness.js';

// A Raspberry Pi OS mount table as the kernel writes it (octal escapes, dump/pass columns),
// with Docker, snap, NFS/SMB, a bind mount and a zfs pool added: one line per case.
const PI_MOUNTS = [
  '/dev/mmcblk0p2 / ext4 rw,noatime 0 0',
  'devtmpfs /dev devtmpfs rw,relatime,size=1867796k,nr_inodes=466949,mode=755 0 0',
  'proc /proc proc rw,relatime 0 0',
  'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
  'tmpfs /run tmpfs rw,nosuid,nodev,size=788012k,nr_inodes=819200,mode=755 0 0',
  'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0',
  '/dev/mmcblk0p1 /boot/firmware vfat rw,relatime,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,errors=remount-ro 0 0',
  '/dev/sda1 /media/pi/My\\040Disk ext4 rw,nosuid,nodev,relatime,errors=remount-ro 0 0',
  '/dev/sda1 /srv/share ext4 rw,nosuid,nodev,relatime,errors=remount-ro 0 0',
  '/dev/mmcblk0p2 /var/lib/docker/volumes/db/_data ext4 rw,noatime 0 0',
  '/dev/loop0 /snap/core22/1380 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0',
  'overlay /var/lib/docker/overlay2/9f1c/merged overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/9f1c/diff,workdir=/var/lib/docker/overlay2/9f1c/work 0 0',
  'nas.local:/export/media /mnt/nas nfs4 rw,relatime,vers=4.2,rsize=131072,wsize=131072,hard,proto=tcp 0 0',
  '//nas.local/share /mnt/smb cifs rw,relatime,vers=3.1.1 0 0',
  'tank/data /data zfs rw,xattr,noacl 0 0',
  '',
].join('\n');

const BLOCK = 4096;
class FakeStatfs {
  readonly calls: string[] = [];
  readonly stats = new Map<string, FsStats | Error>();
  readonly fn = (path: string): FsStats => {
    this.calls.push(path);
    const st = this.stats.get(path) ?? { bsize: BLOCK, blocks: 1000, bfree: 400, bavail: 350 };
    if (st instanceof Error) throw st;
    return st;
  };
}

let tree: Tree | undefined;
afterEach(() => tree?.remove());

async function collectorFor(mounts: string | undefined, statfs = new FakeStatfs(), clock = new FakeClock()) {
  tree?.remove();
  tree = scenarioTree('x86-vm');
  if (mounts !== undefined) tree.write('proc/self/mounts', mounts);
  const fsc = await detectOrFail(createFilesystemCollector({ statfs: statfs.fn, clock: clock.now }), tree.ctx);
  return { fsc, statfs, clock, tree };
}

describe('filesystem collector', () => {
  it('reports the root of the real x86 VM mount table and nothing else', async () => {
    const { fsc, statfs, tree } = await collectorFor(undefined);
    statfs.stats.set(join(tree.root, '/'), { bsize: 4096, blocks: 16_448_000, bfree: 13_000_000, bavail: 12_200_000 });
    expect(await sample(fsc)).toEqual({
      'fs.rootfs.size': 16_448_000 * 4096,
      'fs.rootfs.used': 3_448_000 * 4096,
      // As df: used / (used + available to users); the 800000 root-reserved blocks count in neither.
      'fs.rootfs.util': (3_448_000 / (3_448_000 + 12_200_000)) * 100,
    });
    expect(statfs.calls).toEqual([join(tree.root, '/')]);
  });

  it('keeps storage mounts only, once per device, with escapes decoded', async () => {
    const { fsc, statfs, tree } = await collectorFor(PI_MOUNTS);
    const out = await sample(fsc);
    const mounts = [...new Set(Object.keys(out).map((k) => k.split('.')[1]))];
    expect(mounts).toEqual(['rootfs', 'boot_firmware', 'media_pi_my_disk', 'data']);
    expect(statfs.calls).toEqual(['/', '/boot/firmware', '/media/pi/My Disk', '/data'].map((m) => join(tree.root, m)));
    expect(out['fs.data.used']).toBe(600 * BLOCK);
    expect(out['fs.data.util']).toBe((600 / (600 + 350)) * 100);
  });

  it('keeps an overlay root (read-only-root Pi, container) and prefers / over a bind of its device', async () => {
    const mounts = [
      '/dev/mmcblk0p2 /media/root-ro ext4 ro,relatime 0 0',
      'overlay / overlay rw,relatime,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay,workdir=/media/root-rw/overlay-workdir 0 0',
      '/dev/sda1 /mnt/usb ext4 rw 0 0',
      '/dev/sda1 / ext4 rw 0 0',
    ].join('\n');
    const { fsc } = await collectorFor(mounts);
    // The later mount on / hides the overlay; sda1 is reported at /, not at /mnt/usb.
    expect(Object.keys(await sample(fsc)).filter((k) => k.endsWith('.size'))).toEqual(['fs.media_root_ro.size', 'fs.rootfs.size']);
    const { fsc: overlayRoot } = await collectorFor(mounts.split('\n').slice(0, 2).join('\n'));
    expect(Object.keys(await sample(overlayRoot)).filter((k) => k.endsWith('.size'))).toEqual(['fs.media_root_ro.size', 'fs.rootfs.size']);
  });

  it('drops a filesystem hidden by a later mount on the same point', async () => {
    const { fsc } = await collectorFor('/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data ext4 rw 0 0\ntmpfs /data tmpfs rw 0 0\n');
    expect(Object.keys(await sample(fsc))).toEqual(['fs.rootfs.size', 'fs.rootfs.used', 'fs.rootfs.util']);
  });

  it('gives mount points that map to the same name a suffix', async () => {
    const { fsc } = await collectorFor('/dev/sda1 /data_1 ext4 rw 0 0\n/dev/sdb1 /data/1 ext4 rw 0 0\n/dev/sdc1 /data-1 ext4 rw 0 0\n');
    expect(Object.keys(await sample(fsc)).filter((k) => k.endsWith('.size'))).toEqual(['fs.data_1.size', 'fs.data_1_1.size', 'fs.data_1_2.size']);
  });

  it('leaves out a filesystem whose statfs fails (a pulled USB disk) and one with no blocks', async () => {
    const statfs = new FakeStatfs();
    const { fsc, tree } = await collectorFor(PI_MOUNTS, statfs);
    statfs.stats.set(join(tree.root, '/media/pi/My Disk'), Object.assign(new Error('EIO: i/o error, statfs'), { code: 'EIO' }));
    statfs.stats.set(join(tree.root, '/data'), { bsize: 4096, blocks: 0, bfree: 0, bavail: 0 });
    const out = await sample(fsc);
    expect([...new Set(Object.keys(out).map((k) => k.split('.')[1]))]).toEqual(['rootfs', 'boot_firmware']);
  });

  it('re-reads the mount table every 60 s', async () => {
    const { fsc, clock, tree } = await collectorFor('/dev/mmcblk0p2 / ext4 rw 0 0\n');
    tree.write('proc/self/mounts', '/dev/mmcblk0p2 / ext4 rw 0 0\n/dev/sda1 /media/usb vfat rw 0 0\n');
    clock.advance(59_000);
    expect(Object.keys(await sample(fsc))).not.toContain('fs.media_usb.size');
    clock.advance(1_000);
    expect(Object.keys(await sample(fsc))).toContain('fs.media_usb.size');
    // An unreadable table keeps the last good list.
    rmSync(join(tree.root, 'proc/self/mounts'));
    clock.advance(60_000);
    expect(Object.keys(await sample(fsc))).toContain('fs.media_usb.size');
  });

  it('falls back to /proc/mounts, and returns null with neither or with no storage mounted', async () => {
    tree = scenarioTree('x86-vm');
    rmSync(join(tree.root, 'proc/self'), { recursive: true });
    const statfs = new FakeStatfs();
    const fsc = await detectOrFail(createFilesystemCollector({ statfs: statfs.fn }), tree.ctx);
    expect(Object.keys(await sample(fsc))).toEqual(['fs.rootfs.size', 'fs.rootfs.used', 'fs.rootfs.util']);
    tree.write('proc/mounts', 'proc /proc proc rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n');
    expect(await createFilesystemCollector({ statfs: statfs.fn }).detect(tree.ctx)).toBeNull();
    rmSync(join(tree.root, 'proc/mounts'));
    expect(await createFilesystemCollector({ statfs: statfs.fn }).detect(tree.ctx)).toBeNull();
  });

  it('skips garbage lines in the mount table', async () => {
    const { fsc } = await collectorFor('\u0000\u0000\nnot a mount line\n/dev/sda1 / ext4 rw 0 0\n/dev/sdb1\n');
    expect(Object.keys(await sample(fsc))).toEqual(['fs.rootfs.size', 'fs.rootfs.used', 'fs.rootfs.util']);
  });
});
