// A top-process table for a simulated board, every 5 s like the agent's: the workload's own
// processes (whose CPU follows the device's load) over a steady set of system daemons.
import type { ProcessTable } from '../shared/protocol.js';
import type { Rng } from '../bench/storage-workload.js';

interface Proc {
  pid: number;
  name: string;
  cmd: string;
  user: string;
  /** % of one core at full load, and at rest. */
  busy: number;
  idle: number;
  rssMiB: number;
  gpuMemMiB?: number;
  threads: number;
}

const SYSTEM: readonly Proc[] = [
  { pid: 1, name: 'systemd', cmd: '/sbin/init splash', user: 'root', busy: 0.3, idle: 0.1, rssMiB: 12, threads: 1 },
  { pid: 412, name: 'systemd-journal', cmd: '/lib/systemd/systemd-journald', user: 'root', busy: 0.6, idle: 0.2, rssMiB: 38, threads: 1 },
  { pid: 733, name: 'dockerd', cmd: '/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock', user: 'root', busy: 1.2, idle: 0.4, rssMiB: 96, threads: 18 },
  { pid: 901, name: 'sshd', cmd: 'sshd: ml@pts/0', user: 'ml', busy: 0.2, idle: 0, rssMiB: 9, threads: 1 },
  { pid: 1207, name: 'node', cmd: 'node /opt/edgewatch/edgewatch-agent.mjs --hub wss://hub.lab:8080', user: 'edgewatch', busy: 1.1, idle: 0.9, rssMiB: 52, threads: 11 },
];

const WORKLOADS: Readonly<Record<string, readonly Proc[]>> = {
  'demo-agx-orin': [
    { pid: 2210, name: 'python3', cmd: 'python3 -m deepstream_app --config pipelines/4cam_yolov8n_int8.txt', user: 'ml', busy: 310, idle: 40, rssMiB: 2900, gpuMemMiB: 3100, threads: 42 },
    { pid: 2290, name: 'gst-launch-1.0', cmd: 'gst-launch-1.0 nvarguscamerasrc sensor-id=0 ! nvv4l2h265enc ! rtspclientsink', user: 'ml', busy: 45, idle: 30, rssMiB: 180, threads: 14 },
  ],
  'demo-orin-nano': [
    { pid: 3120, name: 'python3', cmd: 'python3 bench/resnet50_trt.py --engine resnet50-int8.plan --batch 1', user: 'ml', busy: 140, idle: 2, rssMiB: 1450, gpuMemMiB: 900, threads: 23 },
  ],
  'demo-pi4': [
    { pid: 1880, name: 'python3', cmd: 'python3 detect.py --model efficientdet_lite0.tflite --camera 0', user: 'pi', busy: 260, idle: 180, rssMiB: 310, threads: 6 },
    { pid: 1650, name: 'libcamera-vid', cmd: 'libcamera-vid -t 0 --inline --listen -o tcp://0.0.0.0:8888', user: 'pi', busy: 35, idle: 30, rssMiB: 70, threads: 9 },
  ],
  'demo-h200': [
    { pid: 51002, name: 'torchrun', cmd: 'torchrun --nproc-per-node 2 train.py --config configs/vit_b16_finetune.yaml', user: 'ml', busy: 20, idle: 5, rssMiB: 600, threads: 8 },
    { pid: 51044, name: 'python', cmd: 'python train.py --local-rank 0 --config configs/vit_b16_finetune.yaml', user: 'ml', busy: 180, idle: 30, rssMiB: 21_000, gpuMemMiB: 118_000, threads: 64 },
    { pid: 51045, name: 'python', cmd: 'python train.py --local-rank 1 --config configs/vit_b16_finetune.yaml', user: 'ml', busy: 175, idle: 30, rssMiB: 20_800, gpuMemMiB: 117_500, threads: 64 },
    { pid: 51090, name: 'pt_data_worker', cmd: 'python train.py (dataloader worker 0..7)', user: 'ml', busy: 420, idle: 20, rssMiB: 9_400, threads: 16 },
  ],
};

const MiB = 1_048_576;

export function processTable(deviceId: string, load: number, rng: Rng): ProcessTable {
  const procs = [...(WORKLOADS[deviceId] ?? []), ...SYSTEM];
  const rows = procs.map((p) => {
    const cpu = Math.max(0, (p.idle + (p.busy - p.idle) * load) * (1 + 0.1 * rng.normal()));
    return {
      pid: p.pid,
      name: p.name,
      cmd: p.cmd,
      user: p.user,
      cpu: Math.round(cpu * 10) / 10,
      rss: Math.round(p.rssMiB * (1 + 0.01 * rng.normal())) * MiB,
      threads: p.threads,
      ...(p.gpuMemMiB !== undefined ? { gpuMem: p.gpuMemMiB * MiB } : {}),
    };
  });
  return { rows, total: 180 + rng.int(0, 40) };
}
