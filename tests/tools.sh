#!/usr/bin/env bash
# Tools the deploy and contract checks need, installed into .tools/ (or node_modules/) when missing
# (kubectl, for `kubectl kustomize`, and hadolint come from PyPI wheels pinned in pyproject.toml):
#   promtool   (from Debian's `prometheus` package, unpacked: the daemon is never installed or started)
#   the Strimzi CRD validators (npm package @kubernetes-models/strimzi-kafka-operator, pinned by its lock file)
#   the AsyncAPI specification's JSON Schemas (npm package @asyncapi/specs, pinned by its lock file)
# Quick when everything is there; `make test` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"

if ! command -v promtool >/dev/null 2>&1 && [ ! -x "$TOOLS/bin/promtool" ]; then
  echo "tools: unpacking promtool from Debian's prometheus package" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && { apt-get download prometheus >/dev/null 2>&1 \
                   || { apt-get update -qq && apt-get download prometheus; }; } \
     && dpkg-deb -x prometheus_*.deb unpacked)
  cp "$work/unpacked/usr/bin/promtool" "$TOOLS/bin/promtool"
fi

strimzi=deploy/k8s/schemas/strimzi
if [ ! -d "$strimzi/node_modules/@kubernetes-models/strimzi-kafka-operator" ]; then
  echo "tools: installing the Strimzi CRD validators with npm ci" >&2
  npm ci --prefix "$strimzi" --no-audit --no-fund --loglevel=error
fi

asyncapi=tests/contract/asyncapi
if [ ! -d "$asyncapi/node_modules/@asyncapi/specs" ]; then
  echo "tools: installing the AsyncAPI specification schemas with npm ci" >&2
  npm ci --prefix "$asyncapi" --no-audit --no-fund --loglevel=error
fi
