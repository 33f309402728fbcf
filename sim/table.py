"""Growable struct-of-arrays tables: the hot state of creators and buyers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.state import Column

__all__ = ["ColumnTable"]


class ColumnTable:
    """Named numpy columns sharing one row count, with amortised O(1) appends.

    Columns are over-allocated; ``col(name)`` (or attribute access) returns a view of the
    first ``n`` rows, so callers can read and write whole columns as arrays. The schema maps
    names to dtypes or to declared columns (``sim.state.Column``), whose defaults fill the
    columns a new row is not given.
    """

    def __init__(self, schema: Mapping[str, np.dtype | type | Column], capacity: int = 16) -> None:
        self._schema = {name: np.dtype(dt.dtype if isinstance(dt, Column) else dt) for name, dt in schema.items()}
        # Non-zero starting values (unused capacity is zero already).
        self._defaults = {name: dt.default for name, dt in schema.items() if isinstance(dt, Column) and dt.default}
        self._cap = max(int(capacity), 16)
        self._data = {name: np.zeros(self._cap, dtype=dt) for name, dt in self._schema.items()}
        # Each column's view over the first ``n`` rows, made once and handed out until ``n`` or
        # the column's buffer changes (a view of the right length over the current buffer is
        # the view ``col`` would make; ``_grow`` replaces buffers and clears the views).
        self._views: dict[str, np.ndarray] = {}
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def __getstate__(self) -> dict[str, object]:
        # A copied or pickled view would no longer share its column's memory: copies make their own.
        return {**self.__dict__, "_views": {}}

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is not None and name in data:
            return self.col(name)
        raise AttributeError(name)

    def col(self, name: str) -> np.ndarray:
        """A writable view of column ``name`` over the live rows."""
        view = self._views.get(name)
        if view is None or len(view) != self.n:
            view = self._views[name] = self._data[name][: self.n]
        return view

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._schema)

    def append(self, values: Mapping[str, np.ndarray | float | int], k: int) -> slice:
        """Add ``k`` rows; columns not given take their declared default (else zero). Returns
        the new rows' slice."""
        unknown = set(values) - set(self._schema)
        if unknown:
            raise KeyError(f"unknown columns: {sorted(unknown)}")
        if self.n + k > self._cap:
            self._grow(self.n + k)
        rows = slice(self.n, self.n + k)
        for name, value in self._defaults.items():
            if name not in values:
                self._data[name][rows] = value
        for name, value in values.items():
            self._data[name][rows] = value
        self.n += k
        return rows

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        # One column at a time, its views dropped first, so each old buffer is freed as soon as
        # it is copied: the peak is one column's copy, not the whole table twice.
        self._views.clear()
        for name in self._data:
            arr = self._data[name]
            new = np.zeros(cap, dtype=arr.dtype)
            new[: self.n] = arr[: self.n]
            self._data[name] = new
            del arr
        self._cap = cap
