#!/usr/bin/env bash
# Device check on a GPU machine (see scripts/pack-device.sh): a real hub and the
# self-contained agent at 1 Hz for ~50 s, a 20 s bf16 matmul load halfway (when torch is
# there), then the agent's and nvidia-smi's CPU and RSS, the GPU series from the API, and
# the SQLite file copied to $OUT.
set -u
D=$PWD/.device; W=/tmp/ew; rm -rf $W; mkdir -p $W; cd $W
xz -dc $D/node.xz > node && chmod +x node && tar xJf $D/app.tar.xz
echo "node $(./node --version)"; nvidia-smi -L; nproc
./node dist/edgewatch.mjs hub --port 8080 --host 127.0.0.1 --data $W/data --log-level info > $OUT/hub.log 2>&1 &
HUB=$!
for i in $(seq 50); do curl -sf 127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
./node dist/edgewatch-agent.mjs --hub ws://127.0.0.1:8080 --interval 1000 --state-dir $W/agent --name h200-box > $OUT/agent.log 2>&1 &
AG=$!
sleep 8
cpu() { local t=0; for f in /proc/$1/task/*/schedstat; do t=$((t + $(cut -d' ' -f1 $f))); done; echo $t; }
SMI=$(pgrep -P $AG nvidia-smi | head -1); echo "nvidia-smi child: $SMI $(tr '\0' ' ' < /proc/$SMI/cmdline | cut -c1-200)"
A0=$(cpu $AG); S0=$(cpu $SMI); T0=$(date +%s%N)
python3 $D/gpu-load.py 20 > $OUT/load.log 2>&1 &
sleep 40
A1=$(cpu $AG); S1=$(cpu $SMI); T1=$(date +%s%N)
echo "window_s $(( (T1-T0)/1000000000 )) agent_cpu_ms $(( (A1-A0)/1000000 )) smi_cpu_ms $(( (S1-S0)/1000000 ))"
grep VmRSS /proc/$AG/status /proc/$SMI/status
ps -o pid,rss,etime,args --ppid $AG
DEV=$(curl -s 127.0.0.1:8080/api/v1/devices | python3 -c "import json,sys; d=json.load(sys.stdin)['devices'][0]; print(d['id'])")
curl -s 127.0.0.1:8080/api/v1/devices/$DEV > $OUT/device.json
NOW=$(date +%s%3N); FROM=$((NOW-120000))
curl -s "127.0.0.1:8080/api/v1/devices/$DEV/series?metrics=gpu.0.util,gpu.0.power,gpu.0.temp,gpu.0.clock.sm,gpu.0.mem.used,cpu.util&from=$FROM&to=$NOW&points=500" > $OUT/series.json
python3 - <<'PY'
import json, os
s = json.load(open(os.environ['OUT'] + '/series.json'))
for k, pts in s['series'].items():
    vals = [p[1] for p in pts]
    print(k, 'points', len(pts), 'min', min(vals) if vals else None, 'max', max(vals) if vals else None)
d = json.load(open(os.environ['OUT'] + '/device.json'))
print('capabilities', d['device']['capabilities']); print('gpus', d['device']['inventory'].get('gpus'))
print('metrics', len(d['metrics']), [m for m in d['metrics'] if m.startswith('gpu')])
PY
nvidia-smi > $W/table.txt; ./node dist/edgewatch-agent.mjs parse nvidia-smi $W/table.txt | head -c 600; echo
kill $AG; sleep 1; pgrep -f "nvidia-smi --query" && echo "LEFTOVER nvidia-smi" || echo "no leftover nvidia-smi"
kill $HUB; sleep 1
cp $W/data/edgewatch.db* $OUT/ 2>/dev/null; ls -la $OUT
