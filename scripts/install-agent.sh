#!/usr/bin/env bash
# Installs the edgewatch agent as a systemd service on a Raspberry Pi, a Jetson or any Linux
# box with Node.js >= 18. Needs no compiler and no npm: the agent is one bundled file.
#
#   sudo ./install-agent.sh --hub ws://hub.local:8080/ws/agent --id lab-pi-4 --token ewd_… [--name "Lab Pi 4"]
#
# The token comes from the hub: `edgewatch token create lab-pi-4 --data <hub data dir>` (the id
# you pass here must be the one the token was made for).
#
# Files it looks for next to itself (copy these three to the board), or in a repo checkout:
#   edgewatch-agent.mjs  (dist/)   edgewatch-agent.service  (deploy/)
# It writes /opt/edgewatch/edgewatch-agent.mjs, /etc/edgewatch/agent.json (kept if it
# exists), /etc/systemd/system/edgewatch-agent.service, creates the `edgewatch` system user
# (in the `video` group, for vcgencmd and tegrastats) and starts the service.
# --root DIR writes the files under DIR and skips the user and systemctl (packaging, tests).
set -euo pipefail

hub="" name="" id="" token="" ca="" root="" node_bin=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --hub) hub="${2:?--hub needs a URL}"; shift 2 ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --id) id="${2:?--id needs a value}"; shift 2 ;;
    --token) token="${2:?--token needs a value}"; shift 2 ;;
    --ca) ca="${2:?--ca needs a file}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --node) node_bin="${2:?--node needs a path}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "install-agent: unknown argument $1" >&2; usage 2 ;;
  esac
done

here="$(cd "$(dirname "$0")" && pwd)"
find_file() { for f in "$here/$1" "$here/../$2/$1"; do [ -f "$f" ] && { echo "$f"; return; }; done; return 1; }
agent_file=$(find_file edgewatch-agent.mjs dist) || { echo "install-agent: edgewatch-agent.mjs not found next to this script (build it with npm run build, then copy dist/edgewatch-agent.mjs here)" >&2; exit 1; }
unit_file=$(find_file edgewatch-agent.service deploy) || { echo "install-agent: edgewatch-agent.service not found next to this script (it is in deploy/)" >&2; exit 1; }

node_bin="${node_bin:-$(command -v node || true)}"
[ -n "$node_bin" ] || { echo "install-agent: node not found; install Node.js 18 or newer (see docs/install-agent.md)" >&2; exit 1; }
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || { echo "install-agent: $node_bin is Node $node_major; the agent needs Node 18 or newer" >&2; exit 1; }

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then echo "install-agent: run as root (sudo), or pass --root DIR" >&2; exit 1; fi
config="$root/etc/edgewatch/agent.json"
[ -f "$config" ] || [ -n "$hub" ] || { echo "install-agent: --hub is required for a first install (e.g. --hub ws://hub.local:8080/ws/agent)" >&2; exit 2; }

install -D -m 0644 "$agent_file" "$root/opt/edgewatch/edgewatch-agent.mjs"
# ExecStart needs an absolute path; use the node this script found.
install -d "$root/etc/systemd/system"
sed "s|^ExecStart=/usr/bin/node |ExecStart=$node_bin |" "$unit_file" > "$root/etc/systemd/system/edgewatch-agent.service"

if [ -f "$config" ]; then
  echo "install-agent: keeping $config"
  [ -z "$hub" ] || echo "install-agent: note: --hub was not written; edit $config to change the hub"
else
  install -d -m 0755 "$root/etc/edgewatch"
  if [ -n "$ca" ]; then install -D -m 0644 "$ca" "$root/etc/edgewatch/hub-ca.pem"; fi
  # The config holds the device token: readable by root and the agent's group only.
  (umask 027; HUB="$hub" NAME="$name" ID="$id" TOKEN="$token" CA="${ca:+/etc/edgewatch/hub-ca.pem}" "$node_bin" -e '
    const c = { hub: process.env.HUB, interval: "1s", processInterval: "5s", logLevel: "info" };
    for (const k of ["name", "id", "token", "ca"]) if (process.env[k.toUpperCase()]) c[k] = process.env[k.toUpperCase()];
    process.stdout.write(JSON.stringify(c, null, 2) + "\n");' > "$config")
  echo "install-agent: wrote $config"
fi
# Fail now, not at boot, if the config does not parse.
if ! check=$("$node_bin" "$root/opt/edgewatch/edgewatch-agent.mjs" --config "$config" --print-config 2>&1 >/dev/null); then
  echo "$check" >&2
  exit 1
fi

if [ -n "$root" ]; then
  echo "install-agent: files written under $root (user and service not touched)"
  exit 0
fi
if ! id edgewatch >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /var/lib/edgewatch --shell /usr/sbin/nologin edgewatch
fi
getent group video >/dev/null && usermod -a -G video edgewatch
# The agent reads its config (and token) through its group.
chgrp edgewatch /etc/edgewatch/agent.json
systemctl daemon-reload
systemctl enable --now edgewatch-agent.service
systemctl restart edgewatch-agent.service
echo "install-agent: running. Logs: journalctl -u edgewatch-agent -f"
