#!/usr/bin/env bash
# The local stack that `make test`, `make up` and the integration tests use:
# PostgreSQL (postgres.sh) and Kafka (kafka.sh) on 127.0.0.1, data under var/.
#
#   deploy/local/stack.sh up|down|status
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
  up)
    started=$SECONDS
    "$here/postgres.sh" start
    "$here/kafka.sh" start
    echo "stack up in $((SECONDS - started)) s; connection settings:"
    echo "KONGFU_KAFKA_BOOTSTRAP=127.0.0.1:${KONGFU_KAFKA_PORT:-19092}"
    echo "KONGFU_PG_DSN=postgresql://kongfu:kongfu@127.0.0.1:${KONGFU_PG_PORT:-15432}/kongfu"
    ;;
  down)
    # Never fails: stopping what is already stopped is fine.
    "$here/kafka.sh" stop || true
    "$here/postgres.sh" stop || true
    ;;
  status)
    "$here/postgres.sh" status
    "$here/kafka.sh" status
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
