#!/usr/bin/env bash
# Start/stop each KongfuMall service as its own process on the local stack (make up / make down).
# Each runs its gateway, outbox relay and consumers; logs and pid files go under var/run/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run_dir="$root/var/run"
kongfu="$root/.venv/bin/kongfu"
services=(orders fraud purchasing warehouse logistics claims payments notifications)
declare -A ports=([orders]=8001 [purchasing]=8002 [warehouse]=8003 [logistics]=8004 [claims]=8005 [fraud]=8006 [payments]=8007 [notifications]=8008)

portal_port=8009  # the customer portal, reading the gateways above

running() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

start() {
  mkdir -p "$run_dir"
  for s in "${services[@]}"; do
    if running "$s"; then echo "$s already running"; continue; fi
    extra=()  # without a Stripe configured, payments uses the named Stripe and PayPal fakes
    [ "$s" = payments ] && [ -z "${KONGFU_STRIPE_API_BASE:-}" ] && extra=(--fake-providers)
    # PGAPPNAME: PostgreSQL tells the backends apart by service (make bench attributes their CPU).
    PGAPPNAME="kongfu-$s-all" KONGFU_MODE=stack KONGFU_VAR_DIR="$root/var" nohup "$kongfu" serve "$s" --port "${ports[$s]}" "${extra[@]}" \
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

start_portal() {  # after the gateways: the portal only reads them over HTTP
  running portal && { echo "portal already running"; return; }
  local gateways="" s
  for s in "${services[@]}"; do gateways+="${gateways:+,}$s=http://127.0.0.1:${ports[$s]}"; done
  KONGFU_PORTAL_GATEWAYS="$gateways" KONGFU_VAR_DIR="$root/var" nohup "$kongfu" portal --port "$portal_port" \
    >"$run_dir/portal.log" 2>&1 &
  echo $! >"$run_dir/portal.pid"
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$portal_port/healthz" >/dev/null 2>&1 && break
    running portal || { echo "portal exited; see $run_dir/portal.log"; tail -20 "$run_dir/portal.log"; exit 1; }
    sleep 0.5
  done
  echo "portal ready on http://127.0.0.1:$portal_port/portal"
}

stop_portal() {
  if running portal; then kill "$(cat "$run_dir/portal.pid")" || true; fi
  rm -f "$run_dir/portal.pid"
}

status() {
  for s in "${services[@]}" portal; do running "$s" && echo "$s running" || echo "$s stopped"; done
}

case "${1:-}" in
  start) start; start_portal ;;
  stop) stop_portal; stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
