"""State columns declared by the components that own them.

The creator and buyer tables are assembled from declarations: each component (the creator
draw, the learner, the enforcer, detection, ...) declares the columns it keeps, with their
dtype, the value a new row starts with and what they mean, in its own module. A new mechanic
that needs per-creator state declares it in its own file (``declare(CREATORS, ...)``) and
finds it in every table built afterwards; nothing central lists it.

A row appended without a value for a column gets the column's declared default, so the
starting value of a column is stated once, next to the code that uses it. Starting values that
depend on the model (a market's ladder start, an action derived from the tactic) are still
written by the owner when rows are added (``Enforcer.init_rows``, ``Learner.add_rows``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["BUYERS", "CREATORS", "NEVER", "Column", "Declarations", "declare"]

# A day long before any run: the default of "last day something happened" columns.
NEVER = -(10**6)


@dataclass(frozen=True)
class Column:
    """One state column: its name, dtype, the value new rows start with, and its meaning."""

    name: str
    dtype: type
    default: float | int | bool = 0
    doc: str = ""


class Declarations:
    """The declared columns of one table, in declaration order, with their owners."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._columns: dict[str, Column] = {}
        self._owner: dict[str, str] = {}

    def declare(self, owner: str, *columns: Column) -> None:
        """Declare ``columns`` as owned by ``owner`` (a module name); redeclaring the same column
        by the same owner is a no-op (a module imported twice), by another owner an error."""
        for col in columns:
            known = self._owner.get(col.name)
            if known is not None and (known != owner or self._columns[col.name] != col):
                raise ValueError(f"{self.table} column {col.name!r} is already declared by {known}")
            self._columns[col.name] = col
            self._owner[col.name] = owner

    def undeclare(self, owner: str, name: str) -> None:
        """Remove column ``name`` declared by ``owner`` (for plug-ins removed again, in tests)."""
        if self._owner.get(name) != owner:
            raise ValueError(f"{self.table} column {name!r} is not declared by {owner}")
        del self._columns[name], self._owner[name]

    def columns(self) -> dict[str, Column]:
        """Every declared column by name."""
        return dict(self._columns)

    def owner(self, name: str) -> str:
        """The module that declared column ``name``."""
        return self._owner[name]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._columns.values())

    def __contains__(self, name: object) -> bool:
        return name in self._columns


CREATORS = Declarations("creators")
BUYERS = Declarations("buyers")


def declare(table: Declarations, owner: str, *columns: Column) -> None:
    """Declare ``columns`` of ``table`` (``CREATORS`` or ``BUYERS``) as owned by ``owner``."""
    table.declare(owner, *columns)
