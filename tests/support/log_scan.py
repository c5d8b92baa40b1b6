"""LOG-02 / SES-08: no secret ever reaches a log line during the test run.

A pytest plugin (registered from tests/conftest.py). At session start it puts a collecting
handler on the root logger and opens the ``tokenward`` loggers down to DEBUG, so every record of
ours is seen whatever level it has (third-party loggers keep their levels). At session end it
scans those records and the log files of every `tokenward serve` process the tests started
(``ServeProcess`` registers them with ``track_serve_log``) for:

* JWTs (access tokens) and sealed refresh tokens (``v1.<base64url>``,
  recipes/session/rules/refresh_token.py);
* anti-CSRF tokens next to their name (they are bare UUIDs otherwise, like session handles);
* password hashes (Argon2, bcrypt);
* email-link tokens (reset / verification: ``secrets.token_urlsafe(32)``, 43 characters);
* TOTP secrets (32 Base32 characters), sealed secrets (``v1.<key id>.<base64url>``,
  shared/secret_box.py) and MFA recovery codes (``xxxx-xxxx-xxxx``);
* the passwords the tests use: string constants found in tests/ by name (``*PASSWORD*``,
  ``*PASSPHRASE*``, parameters and keywords called ``password``, ``"password"`` JSON fields).

Any hit is printed (where, and the line with the secret masked) and fails the session. The
console email backend's output in serve logs is skipped: printing the email, link included, is
what that development backend is for (it writes to stdout, never to ``logging``).
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS_ROOT = Path(__file__).resolve().parent.parent

MIN_PASSWORD_LENGTH = 8
"""Shorter test strings ("x", "a") would match harmless text everywhere."""

_B64URL = r"A-Za-z0-9_\-"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("JWT", re.compile(rf"eyJ[{_B64URL}]{{8,}}\.eyJ[{_B64URL}]{{8,}}\.[{_B64URL}]*")),
    ("refresh token", re.compile(rf"(?<![{_B64URL}.])v1\.[{_B64URL}]{{60,}}")),
    (
        "anti-CSRF token",
        re.compile(
            r"(?i)anti[-_]?csrf(?:[-_]?token)?['\"]?\s*[:=]\s*['\"]?"
            r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
        ),
    ),
    ("password hash", re.compile(r"\$argon2(?:id|i|d)\$[^\s'\"]+")),
    ("password hash", re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")),
    ("link token", re.compile(rf"(?<![{_B64URL}])[{_B64URL}]{{43}}(?![{_B64URL}])")),
    ("TOTP secret", re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])")),
    ("sealed secret", re.compile(rf"v1\.[0-9a-f]{{8}}\.[{_B64URL}]{{40,}}")),
    (
        "recovery code",
        re.compile(r"(?<![A-Za-z0-9-])[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}(?![A-Za-z0-9-])"),
    ),
)

CONSOLE_EMAIL_START = "tokenward email (console backend: not sent)"
CONSOLE_SMS_START = "tokenward sms (console backend: not sent)"
CONSOLE_EMAIL_RULE = "=" * 72


@dataclass(frozen=True, slots=True)
class Hit:
    source: str
    """Where the line came from: ``logger <name>`` or a serve log file."""
    kind: str
    line: str
    """The offending line, the secret masked."""


def _looks_random(token: str) -> bool:
    """A 43-character run counts as a link token only when it mixes cases and digits (words,
    identifiers and hex digests do not)."""
    return (
        any(c.islower() for c in token)
        and any(c.isupper() for c in token)
        and any(c.isdigit() for c in token)
    )


def _mask(secret: str) -> str:
    return f"{secret[:4]}…[masked {len(secret)} chars]"


class Scanner:
    def __init__(self, passwords: Iterable[str]) -> None:
        self.passwords = sorted(
            {p for p in passwords if len(p) >= MIN_PASSWORD_LENGTH}, key=len, reverse=True
        )

    def findings(self, text: str) -> list[tuple[str, str]]:
        """``(kind, secret)`` for every secret in ``text``."""
        found: list[tuple[str, str]] = []
        spans: list[tuple[int, int]] = []
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(text):
                group = match.lastindex or 0
                secret, (start, end) = match.group(group), match.span(group)
                if kind == "link token" and not _looks_random(secret):
                    continue
                if any(s <= start and end <= e for s, e in spans):
                    continue  # part of a secret already found (a hash's digest, say)
                spans.append((start, end))
                found.append((kind, secret))
        found.extend(("test password", p) for p in self.passwords if p in text)
        return found

    def scan(self, source: str, lines: Iterable[str]) -> list[Hit]:
        hits: list[Hit] = []
        for line in lines:
            findings = self.findings(line)
            masked = line
            for _, secret in findings:
                masked = masked.replace(secret, _mask(secret))
            hits.extend(Hit(source, kind, masked) for kind, _ in findings)
        return hits


def suite_passwords(root: Path = TESTS_ROOT) -> set[str]:
    """The password literals of the test suite, found by name in its source."""
    found: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        if path.name == "test_log_scan.py":  # its planted values are not logged
            continue
        found.update(_password_literals(ast.parse(path.read_text(), str(path))))
    return found


def _is_password_name(name: str | None) -> bool:
    lowered = (name or "").lower()
    return "password" in lowered or "passphrase" in lowered


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _password_literals(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        pairs: list[tuple[str | None, ast.AST | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            pairs = [(node.target.id, node.value)]
        elif isinstance(node, ast.keyword):
            pairs = [(node.arg, node.value)]
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            defaults = [None] * (len(positional) - len(node.defaults)) + list(node.defaults)
            pairs = [(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
            pairs += [(a.arg, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)]
        elif isinstance(node, ast.Dict):
            pairs = [(_string(k), v) for k, v in zip(node.keys, node.values, strict=True)]
        for name, value in pairs:
            literal = _string(value)
            if literal is not None and _is_password_name(name):
                yield literal


def console_emails_removed(lines: Iterable[str]) -> Iterator[str]:
    """The lines outside the console email and SMS backends' printed messages."""
    inside = False
    for line in lines:
        if line.strip() in (CONSOLE_EMAIL_START, CONSOLE_SMS_START):
            inside = True
        elif inside and line.strip() == CONSOLE_EMAIL_RULE:
            inside = False
        elif not inside and line.strip() != CONSOLE_EMAIL_RULE:
            yield line


_serve_logs: list[Path] = []


def track_serve_log(path: Path) -> None:
    """Scan ``path`` (a `tokenward serve` output file) at the end of the session."""
    _serve_logs.append(path)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:  # formatted now: the arguments may change later; tracebacks are included
            self.lines.append((record.name, self.format(record)))
        except Exception:
            self.handleError(record)


class LogScan:
    def __init__(self) -> None:
        self._collector = _Collector()
        self._ours = logging.getLogger("tokenward")
        self._level = self._ours.level
        self.hits: list[Hit] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        logging.getLogger().addHandler(self._collector)
        self._ours.setLevel(logging.DEBUG)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        logging.getLogger().removeHandler(self._collector)
        self._ours.setLevel(self._level)
        scanner = Scanner(suite_passwords())
        for name, text in self._collector.lines:
            self.hits += scanner.scan(f"logger {name}", text.splitlines())
        for path in dict.fromkeys(_serve_logs):
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()
                self.hits += scanner.scan(str(path), console_emails_removed(lines))
        if self.hits and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.hits:
            return
        terminalreporter.section("secrets in logs (LOG-02, SES-08)", sep="=", red=True)
        for hit in self.hits:
            terminalreporter.line(f"{hit.source}: {hit.kind}: {hit.line}", red=True)
        terminalreporter.line(f"{len(self.hits)} secret(s) logged: the run fails.", red=True)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LogScan(), "tokenward-log-scan")
