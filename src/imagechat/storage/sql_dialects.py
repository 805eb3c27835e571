"""Plain SQL text with `?` placeholders, as each driver takes it.

The hot paths skip building SQL at run time: each statement is text written once for both
databases and turned into the driver's form once (`prepared`, cached).
"""

from __future__ import annotations

import functools
import re

# A row lock PostgreSQL needs where concurrent writers meet; SQLite has one writer at a time.
LOCK = " FOR UPDATE OF c"
_PLACEHOLDER = re.compile(r"\?")


@functools.cache
def prepared(sql: str, dialect: str) -> str:
    """`sql` as the driver of `dialect` takes it: `$1, $2, …` and row locks for PostgreSQL."""
    if dialect == "postgresql":
        return _numbered(sql, 1)
    return sql.replace(LOCK, "")


@functools.cache
def combined_inserts(statements: tuple[str, ...]) -> str:
    """PostgreSQL: several INSERTs as ONE statement, `WITH q0 AS (INSERT …), … INSERT …`,
    their parameters numbered in order: one round trip instead of one each. They must not
    depend on each other's results (foreign keys are checked at the end of the statement)."""
    parts, first = [], 1
    for statement in statements:
        parts.append(_numbered(statement, first))
        first += statement.count("?")
    if len(parts) == 1:
        return parts[0]
    head = ", ".join(f"q{n} AS ({part})" for n, part in enumerate(parts[:-1]))
    return f"WITH {head} {parts[-1]}"


def _numbered(sql: str, first: int) -> str:
    numbers = iter(range(first, first + sql.count("?")))
    return _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql)
