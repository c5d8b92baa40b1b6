#!/usr/bin/env bash
# The browser tests' JavaScript: the official supertokens-web-js from npm (pinned by
# tests/browser/js/package-lock.json) bundled into the test page. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
