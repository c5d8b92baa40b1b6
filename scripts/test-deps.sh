#!/usr/bin/env bash
# Install what the test suite needs beyond Python packages: PostgreSQL's server binaries (the
# tests start their own throwaway cluster) and, when running as root, the 'postgres' user that
# initdb and postgres must run as. Idempotent and fast when everything is there.
set -euo pipefail

have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; }

if ! have_pg; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) are missing: install Debian's postgresql package" >&2
    exit 1
  fi
  echo "installing PostgreSQL (Debian package postgresql) for the tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
fi
