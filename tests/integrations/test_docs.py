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
    fastapi = blocks((ROOT / "docs" / "integrations.md").read_text())[:2]
    assert len(fastapi) == 2, "docs/integrations.md lost its two FastAPI blocks"
    for block in fastapi:
        assert block.strip(), "an empty block checks nothing"
        for line in block.strip().splitlines():
            assert line in example, (
                f"docs/integrations.md shows code the example does not have: {line!r}"
            )


def test_every_block_compiles() -> None:
    found = blocks((ROOT / "docs" / "integrations.md").read_text())
    assert found, "docs/integrations.md has no Python block to check"
    for block in found:
        compile(block, "docs/integrations.md", "exec")


def test_a_page_without_python_blocks_fails_the_check() -> None:
    assert blocks("# A page\n\n```\ntokenward serve\n```\n") == []
