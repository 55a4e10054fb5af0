#!/usr/bin/env bash
# Start/stop each KongfuMall service as its own process on the local stack (make up / make down).
# Each runs its gateway, outbox relay and consumers; logs and pid files go under var/run/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run_dir="$root/var/run"
kongfu="$root/.venv/bin/kongfu"
services=(orders fraud purchasing warehouse logistics claims payments notifications)
declare -A ports=([orders]=8001 [purchasing]=8002 [warehouse]=8003 [logistics]=8004 [claims]=8005 [fraud]=8006 [payments]=8007 [notifications]=8008)

running() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

start() {
  mkdir -p "$run_dir"
  for s in "${services[@]}"; do
    if running "$s"; then echo "$s already running"; continue; fi
    extra=()  # without a Stripe configured, payments uses the named Stripe and PayPal fakes
    [ "$s" = payments ] && [ -z "${KONGFU_STRIPE_API_BASE:-}" ] && extra=(--fake-providers)
    KONGFU_MODE=stack KONGFU_VAR_DIR="$root/var" nohup "$kongfu" serve "$s" --port "${ports[$s]}" "${extra[@]}" \
      >"$run_dir/$s.log" 2>&1 &
    echo $! >"$run_dir/$s.pid"
  done
  for s in "${services[@]}"; do
    for _ in $(seq 1 120); do
      curl -fsS "http://127.0.0.1:${ports[$s]}/readyz" >/dev/null 2>&1 && break
      running "$s" || { echo "$s exited; see $run_dir/$s.log"; tail -20 "$run_dir/$s.log"; exit 1; }
      sleep 0.5
    done
    echo "$s ready on http://127.0.0.1:${ports[$s]} (docs at /docs)"
  done
}

stop() {
  for s in "${services[@]}"; do
    if running "$s"; then
      kill "$(cat "$run_dir/$s.pid")" || true
      for _ in $(seq 1 40); do running "$s" || break; sleep 0.25; done
      running "$s" && kill -9 "$(cat "$run_dir/$s.pid")" || true
    fi
    rm -f "$run_dir/$s.pid"
  done
}

status() { for s in "${services[@]}"; do running "$s" && echo "$s running" || echo "$s stopped"; done; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
