#!/usr/bin/env bash
# A private PostgreSQL cluster from the distribution's server binaries (Debian: /usr/lib/postgresql/N/bin),
# initdb'd into var/postgres/data, listening on 127.0.0.1 only; role and database 'kongfu' (password kongfu).
#
#   deploy/local/postgres.sh start|stop|status
#
# Env: KONGFU_PG_PORT (15432).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/var/postgres"
data="$dir/data"
log="$dir/server.log"
port="${KONGFU_PG_PORT:-15432}"

say() { echo "postgres: $*"; }
die() { echo "postgres: $*" >&2; exit 1; }
valid_port() { [[ "$2" =~ ^[0-9]{1,5}$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || die "$1=$2 is not a TCP port"; }
valid_port KONGFU_PG_PORT "$port"

server_bin_ok() { [ -x "$1/initdb" ] && [ -x "$1/postgres" ] && [ -x "$1/pg_ctl" ]; }

# The server binaries: those of the cluster's version if it exists, else pg_config's, else the highest.
bindir() {
  local candidate version
  if [ -f "$data/PG_VERSION" ]; then
    version="$(cat "$data/PG_VERSION")"
    candidate="/usr/lib/postgresql/$version/bin"
    server_bin_ok "$candidate" && { echo "$candidate"; return; }
    if command -v pg_config >/dev/null && candidate="$(pg_config --bindir 2>/dev/null)" && server_bin_ok "$candidate" \
        && "$candidate/postgres" --version | grep -qE " $version(\.|$|[^0-9])"; then
      echo "$candidate"; return
    fi
    die "var/postgres/data is a PostgreSQL $version cluster but its server is not installed: apt-get install -y postgresql-$version (or delete var/postgres to start afresh)"
  fi
  if command -v pg_config >/dev/null && candidate="$(pg_config --bindir 2>/dev/null)" && server_bin_ok "$candidate"; then
    echo "$candidate"; return
  fi
  candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$candidate" ] && server_bin_ok "$candidate"; then echo "$candidate"; return; fi
  die "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found. On Debian/Ubuntu install them with: apt-get install -y postgresql"
}

# The server refuses to run as root. As root it runs as the owner of an existing cluster, else as
# 'postgres' (created by Debian's package), else as a system user 'kongfu' created here.
# As any other user it runs as that user.
server_user() {
  if [ -d "$data" ]; then stat -c %U "$data"; return; fi
  if [ "$(id -u)" != 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  if ! id kongfu >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kongfu \
      || die "could not create the system user 'kongfu' for the server"
  fi
  echo kongfu
}

as_user() {
  local user="$1"; shift
  if [ "$(id -un)" = "$user" ]; then (cd "$dir" && "$@")
  elif [ "$(id -u)" = 0 ]; then (cd "$dir" && runuser -u "$user" -- "$@")
  else die "var/postgres/data belongs to '$user'; run this as '$user' or as root"
  fi
}

# The unix socket lives in var/postgres/sock; a socket path is limited to 107 bytes, so a deep
# checkout falls back to a short, per-checkout directory under /tmp.
socket_dir() {
  local candidate="$dir/sock"
  if [ $(( ${#candidate} + ${#port} + 11 )) -gt 100 ]; then
    candidate="/tmp/kongfu-pg-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
  fi
  echo "$candidate"
}

# Line N of postmaster.pid: 1 pid, 4 port, 5 socket directory.
pid_line() { sed -n "${1}p" "$data/postmaster.pid" 2>/dev/null; }

server_pid() {
  local pid
  pid="$(pid_line 1)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$data" || return 1
  echo "$pid"
}

# One start/stop at a time per checkout (parallel `make` targets, test runners).
lock() {
  mkdir -p "$dir"
  exec 9>>"$dir/postgres.sh.lock"
  flock -w 180 9 || die "another postgres.sh is still busy (lock: var/postgres/postgres.sh.lock)"
}

port_in_use() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The server user must reach var/postgres: every parent directory needs the x bit for it.
check_reachable() {
  local user="$1" path
  as_user "$user" test -w "$dir" 2>/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "cannot write $dir"
  local parts part
  IFS=/ read -ra parts <<<"${dir#/}"
  path=""
  for part in "${parts[@]}"; do  # from the top down, so the first blocked directory is named
    path="$path/$part"
    if ! runuser -u "$user" -- test -x "$path" 2>/dev/null; then
      die "the server runs as '$user', who cannot enter $path. Fix with: chmod o+x $path (or clone the repository somewhere '$user' can reach)"
    fi
  done
  die "the server runs as '$user', who cannot write $dir"
}

init_cluster() {
  local bin="$1" user="$2" locale=C
  locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && locale=C.UTF-8
  say "initdb into var/postgres/data (user $user)"
  # Authentication: trust on the unix socket (its directory is private to the server user and root),
  # scram-sha-256 (password) on 127.0.0.1. Trust would also do for a private dev cluster bound to
  # loopback; the password keeps the DSN honest.
  as_user "$user" "$bin/initdb" -D "$data" -U postgres --encoding=UTF8 --locale="$locale" \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
}

# Rewritten on every start, so a changed KONGFU_PG_PORT or a moved checkout just works;
# postgresql.conf includes it last, so it wins over anything set earlier there.
write_config() {
  local user="$1" sock="$2"
  if ! grep -qxF "include = 'kongfu.conf'" "$data/postgresql.conf"; then
    printf "\n# The local stack settings (deploy/local/postgres.sh):\ninclude = 'kongfu.conf'\n" \
      | as_user "$user" tee -a "$data/postgresql.conf" >/dev/null
  fi
  as_user "$user" tee "$data/kongfu.conf" >/dev/null <<CONF
# Generated by deploy/local/postgres.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '${sock//\'/\'\'}'
unix_socket_permissions = 0700
max_connections = 200
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

ensure_database() {
  local bin="$1" psql=psql
  [ -x "$bin/psql" ] && psql="$bin/psql"
  # Admin over the unix socket as the superuser (trust); the app role then logs in over TCP.
  "$psql" -X -q -v ON_ERROR_STOP=1 -h "$(pid_line 5)" -p "$(pid_line 4)" -U postgres -d postgres >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kongfu') THEN
    CREATE ROLE kongfu LOGIN CREATEDB PASSWORD 'kongfu';
  END IF;
END $$;
SELECT 'CREATE DATABASE kongfu OWNER kongfu ENCODING ''UTF8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'kongfu') \gexec
SQL
}

start() {
  local bin user sock pid started=$SECONDS
  bin="$(bindir)"
  lock
  if pid="$(server_pid)"; then
    ensure_database "$bin"
    say "already running (pid $pid) on 127.0.0.1:$(pid_line 4)"
    return 0
  fi
  port_in_use "$port" && die "127.0.0.1:$port is already in use (another PostgreSQL? set KONGFU_PG_PORT)"
  mkdir -p "$dir"
  user="$(server_user)"
  sock="$(socket_dir)"
  if [ "$(id -u)" = 0 ]; then
    chown "$user:" "$dir"
    install -d -m 0700 -o "$user" -g "$(id -gn "$user")" "$sock"
  else
    install -d -m 0700 "$sock"
  fi
  check_reachable "$user"
  [ -f "$data/PG_VERSION" ] || init_cluster "$bin" "$user"
  write_config "$user" "$sock"
  if ! as_user "$user" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null 9>&-; then
    tail -30 "$log" >&2 || true
    die "the server did not start (log: var/postgres/server.log)"
  fi
  ensure_database "$bin"
  say "ready on 127.0.0.1:$port (pid $(pid_line 1), $((SECONDS - started)) s)"
}

stop() {
  local pid
  [ -d "$dir" ] && lock
  if ! pid="$(server_pid)"; then say "not running"; return 0; fi
  as_user "$(stat -c %U "$data")" "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  say "stopped"
}

status() {
  local pid
  if pid="$(server_pid)"; then echo "postgres running (pid $pid) on 127.0.0.1:$(pid_line 4)"
  else echo "postgres stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
