#!/usr/bin/env bash
# `make demo`: emulated Ray Serve (raysim, not Ray) under `serve-launch run`
# with the repository's overrides.d; see scripts/demo/main.go.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null 2>&1 || {
  echo "demo: error: haproxy is not on PATH: install it first (apt-get install -y haproxy, as .ci/run does)" >&2
  exit 1
}
exec "${GO:-go}" run ./scripts/demo
