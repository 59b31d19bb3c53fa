#!/usr/bin/env bash
# One-machine set-up for Bridgework, safe to run any number of times.
#
#   - installs (apt-get, as root) only what is missing: RabbitMQ and PostgreSQL
#     when they are neither running nor installed, and the Debian libraries the
#     stack needs;
#   - starts RabbitMQ and PostgreSQL when they are not running;
#   - creates the database role and the five databases when missing;
#   - creates .venv and installs the project when pyproject.toml changed;
#   - runs every service's migrations.
# The last line says what it installed ("installed: nothing" on a machine that
# has it all). Environment: PYTHON (interpreter, default python3),
# BRIDGEWORK_RABBIT_PORT / BRIDGEWORK_PG_PORT (where to look for them, 5672 / 5432),
# BRIDGEWORK_DB_PASSWORD (default bridgework), BRIDGEWORK_SKIP_DB_SETUP=1 when
# the databases live elsewhere (then the *_DB_URL variables point at them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
DB_ROLE="bridgework"
DB_PASSWORD="${BRIDGEWORK_DB_PASSWORD:-bridgework}"
RABBIT_PORT="${BRIDGEWORK_RABBIT_PORT:-5672}"
PG_PORT="${BRIDGEWORK_PG_PORT:-5432}"
SERVICES=(identity referrals files cases notifications)
# Debian packages the stack needs whatever else is installed.
# WeasyPrint (referral slips, RX scripts) draws with Pango and DejaVu; pdftotext checks its text.
LIBRARIES=(libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils)

installed=()
started=()

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_port() { # host port seconds what
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.25
  done
  die "$4 did not start listening on $1:$2 within $3 s"
}

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "'$*' needs root; run this script as root (or install sudo)"
  fi
}

apt_install() {
  [ $# -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing $*; install them (no apt-get here)"
  say "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists once if they are missing or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    as_root apt-get update -qq
  fi
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  installed+=("$@")
}

# --- Python ---------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "Python 3.11 or newer is needed as \$PYTHON (found: $("$PYTHON" --version 2>&1 || echo none))"

# --- Debian packages --------------------------------------------------------
wanted=()
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  wanted+=("python3-venv")
fi
if ! port_open 127.0.0.1 "$RABBIT_PORT" && ! command -v rabbitmq-server >/dev/null 2>&1; then
  wanted+=(rabbitmq-server)
  fresh_rabbit=1
fi
if ! port_open 127.0.0.1 "$PG_PORT" && ! command -v pg_ctlcluster >/dev/null 2>&1; then
  wanted+=(postgresql)
fi
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${LIBRARIES[@]}"; do
    pkg_installed "$pkg" || wanted+=("$pkg")
  done
  # The browser tests (tests/browser) drive Debian's chromium; Playwright downloads no browser.
  pkg_installed chromium || wanted+=(chromium)
fi
apt_install "${wanted[@]}"

# --- RabbitMQ -------------------------------------------------------------
if ! port_open 127.0.0.1 "$RABBIT_PORT"; then
  if [ -n "${fresh_rabbit:-}" ]; then
    # Operators get the management UI on the broker we install ourselves.
    as_root rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  fi
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached
  wait_port 127.0.0.1 "$RABBIT_PORT" 90 RabbitMQ
  as_root rabbitmqctl await_startup >/dev/null 2>&1 || true
  started+=(rabbitmq)
fi

# --- PostgreSQL -------------------------------------------------------------
if ! port_open 127.0.0.1 "$PG_PORT"; then
  say "starting PostgreSQL"
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_port 127.0.0.1 "$PG_PORT" 60 PostgreSQL
  started+=(postgresql)
fi

psql_admin() { # runs SQL as the database superuser, whichever way this machine allows
  if psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 </dev/null; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  elif [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -tAq "$@")
  else
    die "cannot reach PostgreSQL as its superuser; set BRIDGEWORK_SKIP_DB_SETUP=1 and *_DB_URL"
  fi
}

if [ "${BRIDGEWORK_SKIP_DB_SETUP:-0}" != "1" ]; then
  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" != "1" ]; then
    psql_admin -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
    say "created the database role $DB_ROLE"
  fi
  for service in "${SERVICES[@]}"; do
    db="bridgework_$service"
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      psql_admin -c "CREATE DATABASE $db OWNER $DB_ROLE"
      say "created the database $db"
    fi
  done
fi

# --- the project's virtualenv ------------------------------------------------
stamp=".venv/.bridgework-installed"
want_stamp="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) $("$PYTHON" --version 2>&1)"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
  say "installing the project into .venv (log: var/setup-pip.log)"
  mkdir -p var
  if ! {
    .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
      .venv/bin/python -m pip install --disable-pip-version-check -e ".[dev]"
  } >var/setup-pip.log 2>&1; then
    tail -n 30 var/setup-pip.log >&2
    die "pip install failed (whole log: var/setup-pip.log)"
  fi
  echo "$want_stamp" >"$stamp"
  installed+=("python-packages")
fi

# --- the STL preview's compiled loops ----------------------------------------
# numba compiles them once (~10 s) into its cache beside the source; afterwards
# this only loads them (~1 s). Done here so no first preview waits for it.
.venv/bin/python -m files.preview_worker --warm

# --- migrations -------------------------------------------------------------
.venv/bin/python -m shared.migrations

say "started: ${started[*]:-nothing}"
say "installed: ${installed[*]:-nothing}"
