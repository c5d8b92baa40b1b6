"""The code in docs/integrations.md is tested code: its FastAPI blocks appear line for line in
examples/fastapi_app.py (which the suite runs), and every block compiles."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.DOTALL)


def test_fastapi_snippets_are_from_the_example() -> None:
    example = (ROOT / "examples" / "fastapi_app.py").read_text()
    docs = (ROOT / "docs" / "integrations.md").read_text()
    for block in blocks(docs)[:2]:
        for line in block.strip().splitlines():
            assert line in example, (
                f"docs/integrations.md shows code the example does not have: {line!r}"
            )


def test_every_block_compiles() -> None:
    for block in blocks((ROOT / "docs" / "integrations.md").read_text()):
        compile(block, "docs/integrations.md", "exec")
