#!/usr/bin/env bash
# Create .venv and install tokenward into it (with the extras given as $1, e.g. "dev").
# Idempotent: reinstalls only when pyproject.toml or the constraints change.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
venv=.venv
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp="$venv/.installed-${extras:-run}"
want=$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

python=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$candidate"; break
  fi
done
if [ -z "$python" ]; then
  echo "tokenward needs Python 3.11 or newer (python3 --version says: $(python3 --version 2>&1))" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    # Debian ships venv support separately.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      ver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$ver-venv"
      rm -rf "$venv"; "$python" -m venv "$venv"
    else
      echo "cannot create a virtualenv: install Debian's python3-venv package" >&2
      exit 1
    fi
  fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  -c requirements/constraints.txt -e "$spec"
echo "$want" > "$stamp"
