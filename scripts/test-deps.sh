#!/usr/bin/env bash
# Install what the tests and benchmarks need beyond Python packages: PostgreSQL's server binaries
# (they start their own throwaway cluster), Debian's Chromium for the browser tests, wrk (the
# benchmarks' load generator) and, when running as root, the 'postgres' user that initdb and
# postgres must run as. Then the browser tests' JavaScript (scripts/browser-deps.sh) and the
# OpenID provider of the social login tests (tests/oidc: panva's oidc-provider, from npm).
# Idempotent and fast when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; }
have_chromium() { command -v chromium >/dev/null; }

missing=()
have_pg || missing+=(postgresql)
have_chromium || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v wrk >/dev/null || missing+=(wrk)  # the benchmark harness's smoke tests

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages for the tests: ${missing[*]} (install them, or run as root)" >&2
    exit 1
  fi
  echo "installing Debian packages for the tests: ${missing[*]}..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
fi

bash scripts/browser-deps.sh

# tests/oidc: `npm ci` only when its lock file changed since the last install (the stamp holds
# its hash), as scripts/browser-deps.sh does. oidc-provider and its dependencies are plain
# JavaScript: no install scripts are needed.
(
  cd tests/oidc
  stamp=node_modules/.tokenward-lock-sha256
  lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
    echo "installing the OpenID provider's npm packages (tests/oidc)..."
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
  fi
)
