#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's packages: initdb into var/postgres, 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/var/postgres"
data="$dir/data"
port="${KONGFU_PG_PORT:-15432}"

bindir() {
  local candidate
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/postgres" ]; then echo "$candidate"; return; fi
  echo "PostgreSQL server binaries not found: install Debian's package with 'apt-get install -y postgresql'" >&2
  exit 1
}

# The server refuses to run as root: it runs as 'postgres' (from the Debian package) or 'kongfu'.
server_user() {
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id kongfu >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kongfu
  echo kongfu
}

as_user() {
  local user="$1"; shift
  if [ "$(id -un)" = "$user" ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"
  else "$@"  # not root: run as ourselves, who own var/
  fi
}

# Unix socket paths are limited to ~107 bytes; a deep checkout falls back to a short /tmp path.
socket_dir() {
  local candidate="$dir/sock"
  if [ ${#candidate} -gt 80 ]; then candidate="/tmp/kongfu-pg-$(echo "$root" | cksum | cut -d' ' -f1)"; fi
  echo "$candidate"
}

running() { [ -f "$data/postmaster.pid" ] && as_user "$(server_user)" "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  local bin user sock
  bin="$(bindir)"; user="$(server_user)"; sock="$(socket_dir)"
  mkdir -p "$dir" "$sock"
  [ "$(id -u)" = 0 ] && chown "$user" "$dir" "$sock"
  if [ ! -f "$data/PG_VERSION" ]; then
    # trust: a private development cluster reachable only on loopback and its own socket.
    as_user "$user" "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 128MB
logging_collector = off
CONF
  fi
  if running; then echo "postgres already running on 127.0.0.1:$port"; return 0; fi
  as_user "$user" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $port -k $sock" -w -t 60 start >/dev/null \
    || { tail -30 "$dir/server.log" >&2; exit 1; }
  local psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
  "${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname='kongfu'" | grep -q 1 \
    || "${psql[@]}" -c "CREATE ROLE kongfu LOGIN CREATEDB PASSWORD 'kongfu'"
  "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname='kongfu'" | grep -q 1 \
    || "${psql[@]}" -c "CREATE DATABASE kongfu OWNER kongfu"
  echo "postgres ready on 127.0.0.1:$port"
}

stop() {
  if running; then
    as_user "$(server_user)" "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    echo "postgres stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && echo "postgres running on 127.0.0.1:$port" || echo "postgres stopped" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
