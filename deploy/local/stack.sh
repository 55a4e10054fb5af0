#!/usr/bin/env bash
# The local stack the integration tests and `make up` use: PostgreSQL and Kafka on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
  up)
    "$here/postgres.sh" start
    "$here/kafka.sh" start
    echo "KONGFU_KAFKA_BOOTSTRAP=127.0.0.1:${KONGFU_KAFKA_PORT:-19092}"
    echo "KONGFU_PG_DSN=postgresql://kongfu:kongfu@127.0.0.1:${KONGFU_PG_PORT:-15432}/kongfu"
    ;;
  down)
    "$here/kafka.sh" stop || true
    "$here/postgres.sh" stop || true
    ;;
  status)
    "$here/postgres.sh" status
    "$here/kafka.sh" status
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
