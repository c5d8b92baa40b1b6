"""SECURITY.md's Top-25 table stays true: every item 1-25 has a row, each row names at least one
test, and every test it names is defined in the file it names (issue #8)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECURITY_MD = ROOT / "SECURITY.md"
ROW = re.compile(r"^\| (\d+) \|(.*)$")
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def top_25_rows() -> dict[int, str]:
    """The table rows under "## Top 25 checklist", by item number."""
    section = SECURITY_MD.read_text().split("## Top 25 checklist", 1)[1].split("\n## ", 1)[0]
    rows: dict[int, str] = {}
    for line in section.splitlines():
        if match := ROW.match(line):
            number = int(match.group(1))
            assert number not in rows, f"item {number} has two rows"
            rows[number] = match.group(2)
    return rows


@cache
def defined_tests(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(), filename=path)
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def test_every_top_25_item_has_a_row() -> None:
    assert sorted(top_25_rows()) == list(range(1, 26))


@pytest.mark.parametrize("item", range(1, 26))
def test_every_named_test_exists(item: int) -> None:
    row = top_25_rows().get(item)
    assert row is not None, f"SECURITY.md has no row for Top-25 item {item}"
    references = TEST_REFERENCE.findall(row)
    assert references, f"item {item} names no test"
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in defined_tests(path)
    ]
    assert not missing, f"item {item} names tests that do not exist: {missing}"


def test_rows_say_whether_the_item_is_done() -> None:
    for item, row in top_25_rows().items():
        status = row.rstrip().rstrip("|").rsplit("|", 1)[-1].strip()
        assert status.startswith(("done", "not applicable")), (item, status)


def test_every_item_has_a_test_named_after_one_of_its_ids() -> None:
    for item, row in top_25_rows().items():
        requirement = row.split("|", 1)[0]
        ids = {i.lower().replace("-", "_") for i in re.findall(r"[A-Z]+-\d+", requirement)}
        names = [name for _, name in TEST_REFERENCE.findall(row)]
        assert ids, f"item {item}: the requirement names no ID"
        assert any(f"_{i}_" in name for i in ids for name in names), (item, sorted(ids))
