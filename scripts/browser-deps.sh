#!/usr/bin/env bash
# The browser tests' JavaScript: the official supertokens-web-js from npm (pinned by
# tests/browser/js/package-lock.json) bundled into the test page. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser/js"

# `npm ci` only when the lock file changed since the last install (the stamp holds its hash).
stamp=node_modules/.tokenward-lock-sha256
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "installing the browser tests' npm packages..."
  # No install scripts are needed: esbuild finds its platform binary package by itself.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi

# The page's bundle (dist/, git-ignored): esbuild takes well under a second.
npm run --silent build -- --log-level=warning
