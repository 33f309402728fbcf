"""Values from scientific Python made plain: numpy scalars and arrays become Python numbers and lists.

The Python API (``run``, ``LiveShopModel``, ``with_overrides``, scenarios and sweeps from dicts)
is called by samplers and workbenches that pass numpy scalars (``np.int64(116)``,
``np.float32(0.02)``, ``np.bool_``), pandas rows (numpy scalars again) and numpy arrays.
:func:`plain` turns them into the Python values a scenario file would hold, so the strict
validation then judges them as it judges a file: an integer field still refuses a float
(``np.float64(116.0)``) and a bool, a number field still refuses a bool and a non-finite value.
numpy is not imported here: a value is recognised by its type's module.
"""

from __future__ import annotations

from typing import Any

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """``value`` with every numpy scalar replaced by the Python scalar of the same value and every
    numpy array by a (nested) list, through dicts, lists and tuples; anything else as it is."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # a scalar's tolist() is its Python value; an array's, nested lists
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    return value
