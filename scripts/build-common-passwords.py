#!/usr/bin/env python3
"""Rebuild the password blocklist,
``src/tokenward/recipes/emailpassword/data/common-passwords.txt``.

The list is the start of zxcvbn's ``passwords`` frequency list (most common first; zxcvbn
built it from Xato's corpus of leaked passwords), keeping only entries of at least
``MIN_LENGTH`` characters, since shorter ones are refused by the length rule anyway. The
header lines name the source and carry its MIT licence, as the licence requires.

zxcvbn is not a tokenward dependency. Install it somewhere disposable and run this script
with that interpreter, from the repository root::

    python3 -m venv /tmp/zxcvbn-venv
    /tmp/zxcvbn-venv/bin/pip install zxcvbn==4.5.0
    /tmp/zxcvbn-venv/bin/python scripts/build-common-passwords.py

The output is deterministic for a given zxcvbn version.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped, import-not-found, unused-ignore]

MIN_LENGTH = 8
COUNT = 10_000
OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "src/tokenward/recipes/emailpassword/data/common-passwords.txt"
)

LICENCE = """\
MIT License

Copyright (c) 2012-2015 Dan Wheeler and Dropbox, Inc. (zxcvbn)
Copyright (c) 2016 Daniel Wolf (zxcvbn-python)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def select(passwords: list[str]) -> list[str]:
    """The first COUNT distinct lower-cased entries of at least MIN_LENGTH characters."""
    chosen: list[str] = []
    seen: set[str] = set()
    for entry in passwords:
        word = entry.strip().lower()
        if len(word) < MIN_LENGTH or word in seen or word.startswith("#"):
            continue
        seen.add(word)
        chosen.append(word)
        if len(chosen) == COUNT:
            break
    return chosen


def main() -> int:
    words = select(list(FREQUENCY_LISTS["passwords"]))
    header = [
        f"Common passwords of at least {MIN_LENGTH} characters, most common first "
        f"({len(words)} entries).",
        f"Source: the 'passwords' frequency list of zxcvbn {version('zxcvbn')} (PyPI package",
        "'zxcvbn', a Python port of Dropbox's zxcvbn), derived from Xato's corpus of leaked",
        "passwords. Made by scripts/build-common-passwords.py; lines starting with # are",
        "comments. zxcvbn is distributed under the MIT licence:",
        "",
        *LICENCE.splitlines(),
    ]
    lines = [f"# {line}".rstrip() for line in header] + words
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} passwords to {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
