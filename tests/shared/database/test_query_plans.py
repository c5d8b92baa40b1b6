"""The statements of every sign-in, refresh and session check find their rows through an index
on SQLite, never by reading a whole table: their cost must not grow with the number of users
or sessions. (A parenthesised outer join once made SQLite materialise every login method of
every user on each read of one user.)"""

from __future__ import annotations

import sqlite3

import pytest

from tokenward.app.stores import Stores
from tokenward.shared.database.direct_statements import DriverStatement

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def driver_statements(stores: Stores) -> dict[str, DriverStatement]:
    found = {}
    for store_name in ("users", "sessions", "email_verification", "roles", "rate_limits"):
        store = getattr(stores, store_name)
        for name, value in vars(store).items():
            if isinstance(value, DriverStatement):
                found[f"{store_name}.{name}"] = value
    return found


@SQLITE
async def test_hot_statements_never_scan_a_table(stores: Stores, database_url: str) -> None:
    statements = driver_statements(stores)
    assert "users._email_password_user" in statements and len(statements) >= 8
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        for name, statement in statements.items():
            parameters = [0] * statement.sql.count("?")  # qmark style: one per value
            plan = connection.execute(f"EXPLAIN QUERY PLAN {statement.sql}", parameters)
            steps = [row[3] for row in plan]
            scans = [s for s in steps if s.startswith(("SCAN", "MATERIALIZE"))]
            assert not scans, f"{name}: {steps}"
    finally:
        connection.close()


@SQLITE
async def test_the_account_lookup_names_its_recipe_in_the_sql(stores: Stores) -> None:
    """A bound value in the condition of a partial index makes SQLite prepare the statement
    again on every run; the email/password account lookups write it into the SQL instead."""
    for name in ("_email_password_user", "_email_password_method"):
        statement = driver_statements(stores)[f"users.{name}"]
        assert "'emailpassword'" in statement.sql
