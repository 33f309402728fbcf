"""The scorecard: metric definitions, daily values and run summaries.

Metric names are part of the interface (design §4). Each metric is defined once, by a
:class:`Metric`: its name, unit, description, which direction is better, how today's value
follows from the model (``daily``), how the whole-run value follows (``summarize``) and which
day counters it reads (``counters``). Definitions live in a registry keyed by name
(``METRICS``); the daily table, the run summary and the day counters are all derived from it,
so a new metric is one definition plus :func:`register_metric`, from this module or from
outside the package, and nothing else changes::

    from sim.metrics import Metric, ratio, ratio_of_totals, register_metric

    register_metric(Metric(
        "views_per_stream", "views", "stream views per live stream held", None,
        daily=ratio("views", "streams"), summarize=ratio_of_totals("views", "streams")))

Register before building a model: the model sizes its day counters from the registry when it
is built. Each value must be computed with the same arithmetic in the same order every time
(the golden files pin results bit for bit), which is why the rules below spell out the exact
expression they evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from operator import methodcaller
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.labels import ADVERSARY_TYPES, CreatorType
from sim.tactics import kinds as tactic_kinds
from sim.tactics import names as tactic_names
from sim.tactics import on_change as on_tactics_change

if TYPE_CHECKING:
    from sim.model import LiveShopModel
    from sim.platform.enforcement import DecisionLog

__all__ = [
    "LAST_DAY",
    "MEAN",
    "METRICS",
    "RUN_METRICS",
    "TOTAL",
    "DailyRule",
    "DayCounts",
    "DayView",
    "Metric",
    "RunMetric",
    "RunView",
    "SummaryRule",
    "count",
    "counter_fields",
    "cumulative_ratio",
    "day_metrics",
    "difference",
    "gini",
    "ratio",
    "ratio_of_totals",
    "register_counter",
    "register_metric",
    "register_run_metric",
    "registered",
    "run_metrics",
    "run_summary",
    "sum_of",
    "tactic_metrics",
    "top_share",
    "total_of_difference",
    "type_lookup",
    "unregister_metric",
]


# ---------------------------------------------------------------------------------------
# Numeric helpers
# ---------------------------------------------------------------------------------------


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, 1 = one holds all)."""
    x = np.sort(np.maximum(np.asarray(x, dtype=float), 0.0))  # np.clip(x, 0, None), without its dispatch
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * x) / (n * total)) - (n + 1.0) / n)


def top_share(x: np.ndarray, fraction: float = 0.01) -> float:
    """Share of the total held by the top ``fraction`` of entries (at least one entry)."""
    x = np.asarray(x, dtype=float)
    total = x.sum()
    if x.size == 0 or total <= 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * x.size)))
    return float(np.sort(x)[-k:].sum() / total)


def _ratio(a: float, b: float) -> float:
    """``a / b``, undefined (NaN) when nothing was there to divide by."""
    return float(a / b) if b > 0 else float("nan")


def _median(x: np.ndarray) -> float:
    """The median, undefined (NaN) for no values rather than numpy's warning.

    For floats it is ``np.median``'s value bit for bit (the middle value, or the mean of the two
    middle values as ``(a + b) / 2``; NaN when any value is NaN) without its dispatch cost,
    which dominates at the sizes the daily metrics see."""
    if not x.size:
        return float("nan")
    if x.dtype != np.float64:
        return float(np.median(x))
    s = np.sort(x)
    if s[-1] != s[-1]:  # NaN sorts last
        return float("nan")
    mid = s.size // 2
    if s.size % 2:
        return float(s[mid])
    return (float(s[mid - 1]) + float(s[mid])) / 2.0


def type_lookup(codes: Sequence[int]) -> np.ndarray:
    """A table over every int8 creator type code, True at ``codes``: ``table[ctype]`` is
    ``np.isin(ctype, codes)`` for an int8 column, in one gather."""
    table = np.zeros(256, dtype=bool)
    table[np.asarray(codes, dtype=np.int64)] = True
    return table


_ADVERSARY_TYPE = type_lookup([int(t) for t in ADVERSARY_TYPES])


# ---------------------------------------------------------------------------------------
# What a rule sees: one market (or the whole platform) on one day, or over the whole run
# ---------------------------------------------------------------------------------------


class _Today:
    """Model state that every market's daily values share, derived once a day and only when a
    metric asks for it (so a metric nobody registered costs nothing)."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model

    # Buyer stocks per market.
    @cached_property
    def active_buyers(self) -> np.ndarray:
        return self.model.buyers.stock_active.astype(float)

    @cached_property
    def trust_sum(self) -> np.ndarray:
        return self.model.buyers.stock_trust

    @cached_property
    def initial_buyers(self) -> np.ndarray:
        return self.model.buyers.stock_initial.astype(float)

    @cached_property
    def initial_buyers_active(self) -> np.ndarray:
        return self.model.buyers.stock_initial_active.astype(float)

    # Creator masks.
    @cached_property
    def creator_market(self) -> np.ndarray:
        return self.model.creators.col("market")

    @cached_property
    def ctype(self) -> np.ndarray:
        return self.model.creators.col("ctype")

    @cached_property
    def present(self) -> np.ndarray:
        return self.model.creators.present_mask()

    @cached_property
    def live(self) -> np.ndarray:
        return self.model.creators.live_mask()

    @cached_property
    def honest(self) -> np.ndarray:
        return self.ctype == CreatorType.honest

    @cached_property
    def adversary(self) -> np.ndarray:
        return _ADVERSARY_TYPE[self.ctype]

    @cached_property
    def honest_live(self) -> np.ndarray:
        return self.honest & self.live

    @cached_property
    def day0_honest(self) -> np.ndarray:
        return self.honest & (self.model.creators.col("joined_day") == 0)

    @cached_property
    def sanctioned(self) -> np.ndarray:
        return self.model.creators.col("sanctions") > 0

    def tally(self, *masks: str) -> list[int]:
        """Creators in every one of the masks named (``"live"``, ``"honest"``, ...), for the
        platform and then each market: one bincount for all the views, kept for the day, instead
        of one mask and count per view. ``tally(...)[view.column]`` is ``(mask & view.creators).sum()``."""
        cache = self.__dict__.setdefault("_tallies", {})
        out = cache.get(masks)
        if out is None:
            mask = getattr(self, masks[0])
            for name in masks[1:]:
                mask = mask & getattr(self, name)
            by = np.bincount(self.creator_market[mask], minlength=self.model.n_markets)
            out = cache[masks] = [int(by.sum()), *by.tolist()]
        return out

    # Trailing creator values.
    @cached_property
    def income(self) -> np.ndarray:
        """Trailing 30-day income; before day 30 the days not yet run count at the day-0 creators'
        expected income (``model.expected_income``), so the series starts level, not from zero."""
        m = self.model
        out = m.income_30d.values.copy()
        if m.day < 30:
            expected = m.expected_income[: out.size]
            out[: expected.size] += expected * ((30 - m.day) / 30.0)
        return out

    @cached_property
    def gmv30(self) -> np.ndarray:
        return self.model.gmv_30d.values

    # Today's enforcement decisions.
    @cached_property
    def _decisions_today(self) -> np.ndarray:
        log = self.model.governance.enforcer.log
        day = self.model.day
        if day <= 0:
            return np.zeros(0, dtype=np.int64)
        # The log is appended day by day and its "day" column never changes, so today's
        # decisions are one run of rows found by bisection (not a scan of the whole log).
        days = log.col("day")
        return np.arange(np.searchsorted(days, day, "left"), np.searchsorted(days, day, "right"), dtype=np.int64)

    @cached_property
    def decision_delay(self) -> np.ndarray:
        """Days from violation to decision of today's decisions."""
        log = self.model.governance.enforcer.log
        today = self._decisions_today
        return (log.col("day")[today] - log.col("violation_day")[today]).astype(float)

    @cached_property
    def decision_hours(self) -> np.ndarray:
        """Hours from violation (the stream going live) to decision of today's decisions."""
        return _hours_to_action(self.model.governance.enforcer.log, self._decisions_today)

    @cached_property
    def decision_market(self) -> np.ndarray:
        return self.model.governance.enforcer.log.col("market")[self._decisions_today]

    @cached_property
    def backlog(self) -> np.ndarray:
        return self.model.governance.backlog()


class DayView:
    """What a daily rule sees: today, for the whole platform (``market is None``) or one market.

    ``sel`` selects the market's entries of per-market arrays; ``creators`` is the mask of the
    market's creators; ``today`` holds the state shared by all markets (see ``_Today``).
    """

    def __init__(self, model: LiveShopModel, today: _Today, key: str, market: int | None,
                 sums: list[float] | None = None) -> None:
        self.model = model
        self.today = today
        self.key = key
        self.market = market
        self.sel = slice(None) if market is None else slice(market, market + 1)
        self.column = 0 if market is None else 1 + market  # this view's entry in ``today.tally(...)``
        self._counts = model.counts
        # Each counter summed once, however many metrics read it (``day_metrics`` passes every
        # counter's sum in table row order, taken in one reduction over the counts table).
        self._sums: dict[str, float] = {}
        self._table_sums = sums

    @cached_property
    def creators(self) -> np.ndarray:
        c = self.model.creators
        return np.ones(c.n, dtype=bool) if self.market is None else self.today.creator_market == self.market

    def within(self, mask: np.ndarray) -> np.ndarray:
        """``mask & creators``: the creators of ``mask`` in this market (``mask`` itself for the platform)."""
        return mask if self.market is None else mask & self.creators

    @cached_property
    def present_gmv30(self) -> np.ndarray:
        """Trailing 30-day GMV of this market's present creators (the concentration metrics' values)."""
        return self.today.gmv30[self.within(self.today.present)]

    def count(self, field: str) -> float:
        """Today's value of a day counter in this market (or the platform)."""
        if self._table_sums is not None:
            row = self._counts.rows.get(field)
            if row is not None:
                return self._table_sums[row]
        value = self._sums.get(field)
        if value is None:
            value = self._sums[field] = self._sum(getattr(self._counts, field))
        return value

    def run_total(self, field: str) -> float:
        """A day counter summed over every day so far (warm-up included), in this market (or the platform)."""
        return self._sum(self.model.run_totals[field])

    def stock(self, values: np.ndarray) -> float:
        """A per-market array summed over this market's entries (all markets for the platform)."""
        return self._sum(values)

    def _sum(self, values: np.ndarray) -> float:
        # A market's one entry is its sum (as ``values[m:m + 1].sum()``, without the reduction).
        return float(values.sum()) if self.market is None else float(values[self.market])


class _Run:
    """Whole-run state that every market's summary shares: the days after the warm-up."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.warmup = model.config.effective_warmup

    @cached_property
    def days_present(self) -> np.ndarray:
        """Days each creator was present after the warm-up (0 or less: none)."""
        c = self.model.creators
        return (np.where(c.col("left_day") >= 0, c.col("left_day"), self.model.day)
                - np.maximum(c.col("joined_day"), self.warmup))

    def since_warmup(self, col: str) -> np.ndarray:
        """A creator running total (earnings, gmv) gained after the warm-up."""
        out = self.model.creators.col(col).astype(float)
        start = self.model.summary_start[col]
        out[: start.size] -= start
        return out

    @cached_property
    def honest(self) -> np.ndarray:
        return self.model.creators.col("ctype") == CreatorType.honest


class RunView:
    """What a summary rule sees: the whole run, for the platform (``market is None``) or one market."""

    def __init__(self, model: LiveShopModel, run: _Run, key: str, market: int | None) -> None:
        self.model = model
        self.run = run
        self.key = key
        self.market = market
        self.sel = slice(None) if market is None else slice(market, market + 1)

    @cached_property
    def creators(self) -> np.ndarray:
        c = self.model.creators
        return np.ones(c.n, dtype=bool) if self.market is None else c.col("market") == self.market

    def total(self, field: str) -> float:
        """A day counter summed over the days after the warm-up, in this market (or the platform)."""
        return float(self.model.totals[field][self.sel].sum())


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyRule:
    """How today's value follows from a :class:`DayView`, and the day counters it reads."""

    compute: Callable[[DayView], float]
    counters: tuple[str, ...] = ()
    # For the rules made by ``count``, ``ratio``, ``difference`` and ``sum_of``: that arithmetic
    # on ``counters``, which ``day_metrics`` evaluates for every such metric and market at once.
    form: str = ""

    def __call__(self, view: DayView) -> float:
        return self.compute(view)


@dataclass(frozen=True)
class SummaryRule:
    """How the whole-run value follows from a :class:`RunView` and the metric's daily series.

    ``label`` says in words how (it is shown in the metric tables of the docs).
    """

    label: str
    compute: Callable[[RunView, Sequence[float]], float]
    counters: tuple[str, ...] = ()

    def __call__(self, view: RunView, series: Sequence[float]) -> float:
        return self.compute(view, series)


def count(field: str) -> DailyRule:
    """Today's value of one day counter."""
    return DailyRule(methodcaller("count", field), (field,), "count")


def ratio(numerator: str, denominator: str) -> DailyRule:
    """Today's ratio of two day counters (NaN when the denominator is zero)."""
    return DailyRule(lambda v: _ratio(v.count(numerator), v.count(denominator)), (numerator, denominator), "ratio")


def difference(a: str, b: str) -> DailyRule:
    """Today's ``a - b`` of two day counters."""
    return DailyRule(lambda v: v.count(a) - v.count(b), (a, b), "difference")


def sum_of(a: str, b: str) -> DailyRule:
    """Today's ``a + b`` of two day counters."""
    return DailyRule(lambda v: v.count(a) + v.count(b), (a, b), "sum")


def cumulative_ratio(numerator: str, denominator: str) -> DailyRule:
    """The ratio of two day counters summed over every day so far (NaN when the denominator is zero)."""
    return DailyRule(lambda v: _ratio(v.run_total(numerator), v.run_total(denominator)), (numerator, denominator))


def _nansum(view: RunView, series: Sequence[float]) -> float:
    return float(np.nansum(series))


def _last(view: RunView, series: Sequence[float]) -> float:
    return float(series[-1]) if len(series) else float("nan")


def _nanmean(view: RunView, series: Sequence[float]) -> float:
    return float(np.nanmean(series)) if len(series) else float("nan")


TOTAL = SummaryRule("total", _nansum)
"""The sum of the daily values (undefined days skipped)."""
LAST_DAY = SummaryRule("last day", _last)
"""The value on the last day (a stock at the end of the run)."""
MEAN = SummaryRule("mean", _nanmean)
"""The mean of the daily values (undefined days skipped)."""


def ratio_of_totals(numerator: str, denominator: str) -> SummaryRule:
    """The ratio of two day counters summed over the whole run: a share over the run's items,
    not a mean of daily shares (which would weight a quiet day like a busy one)."""
    return SummaryRule("ratio of totals", lambda v, s: _ratio(v.total(numerator), v.total(denominator)),
                       (numerator, denominator))


def total_of_difference(a: str, b: str) -> SummaryRule:
    """The run's total of ``a - b``, taken from the run totals of the two counters (one
    subtraction, rather than a sum of daily differences)."""
    return SummaryRule("total", lambda v, s: v.total(a) - v.total(b), (a, b))


# ---------------------------------------------------------------------------------------
# Definitions and the registry
# ---------------------------------------------------------------------------------------


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Metric:
    """One metric, defined once: what it measures, which direction is good (None: neither), how
    today's value and the whole-run value follow, and which day counters it reads.

    ``daily`` is a :class:`DailyRule` (``count``, ``ratio``, ...) or any function of a
    :class:`DayView`; ``summarize`` a :class:`SummaryRule` (``TOTAL``, ``LAST_DAY``, ``MEAN``,
    ``ratio_of_totals``, ...) or a function of a :class:`RunView` and the daily series, in which
    case ``summary`` must say in words how it aggregates. ``counters`` lists day counters a plain
    function reads (those of rules are known already); the model keeps every declared counter.
    """

    name: str
    unit: str
    description: str
    higher_is_better: bool | None
    daily: DailyRule | Callable[[DayView], float]
    summarize: SummaryRule | Callable[[RunView, Sequence[float]], float]
    counters: tuple[str, ...] = ()
    summary: str = ""  # how the run summary aggregates the daily series, in words

    def __post_init__(self) -> None:
        if not self.summary:
            if not isinstance(self.summarize, SummaryRule):
                raise ValueError(f"metric {self.name!r}: a summary function needs `summary` saying how it aggregates")
            object.__setattr__(self, "summary", self.summarize.label)
        object.__setattr__(self, "counters", _unique([*self.counters, *self.needs_from_rules()]))

    def needs_from_rules(self) -> tuple[str, ...]:
        """The day counters the daily and summary rules declare."""
        out: list[str] = []
        for rule in (self.daily, self.summarize):
            out.extend(getattr(rule, "counters", ()))
        return tuple(out)


METRICS: dict[str, Metric] = {}
"""The registry: every metric by name, in the order of the daily table's columns."""

_COUNTERS: list[str] = []  # day counters registered by themselves (see register_counter)


_TABLE_KEYS = ("day", "market", "warmup")  # the daily table's other columns


def _check_counter(name: str) -> None:
    """A counter becomes an attribute of DayCounts: it must be a name that clobbers nothing."""
    if not name.isidentifier() or name.startswith("_") or hasattr(DayCounts, name):
        raise ValueError(f"day counter name must be an identifier not starting with _ and not one of "
                         f"DayCounts' own attributes, got {name!r}")


def register_metric(metric: Metric) -> Metric:
    """Add a metric to the scorecard: it becomes a column of the daily table, a value of every
    run summary, and its counters become day counters. Names are unique; the metric is appended
    (the order of the daily table's columns is the order of registration)."""
    if not isinstance(metric, Metric):
        raise TypeError(f"register_metric: expected a Metric, got {type(metric).__name__}")
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is already registered")
    if not metric.name.isidentifier() or metric.name in _TABLE_KEYS:
        raise ValueError(f"metric name must be an identifier other than {' or '.join(_TABLE_KEYS)}, "
                         f"got {metric.name!r}")
    for name in metric.counters:
        _check_counter(name)
    METRICS[metric.name] = metric
    return metric


def unregister_metric(name: str) -> Metric:
    """Remove a metric (and the counters only it declared); returns its definition."""
    if name not in METRICS:
        raise KeyError(f"metric {name!r} is not registered")
    return METRICS.pop(name)


@contextmanager
def registered(*metrics: Metric) -> Iterator[tuple[Metric, ...]]:
    """Register ``metrics`` for the duration of a ``with`` block, and remove them afterwards even
    when the block fails (for tests and one-off analyses that must leave the scorecard as found)."""
    done: list[str] = []
    try:
        for m in metrics:
            register_metric(m)
            done.append(m.name)
        yield metrics
    finally:
        for name in reversed(done):
            METRICS.pop(name, None)


def register_counter(*names: str) -> None:
    """Declare day counters that a phase records and no metric reads (kept per market each day
    and summed over the run in ``model.totals``, for tests and diagnostics). Repeats are ignored."""
    for name in names:
        _check_counter(name)
    for name in names:
        if name not in _COUNTERS:
            _COUNTERS.append(name)


def counter_fields() -> tuple[str, ...]:
    """Every day counter: those the registered metrics declare, in registration order, then those
    registered by themselves."""
    return _unique([*(f for m in METRICS.values() for f in m.counters), *_COUNTERS])


class _CountsFields(type):
    """Makes ``DayCounts.FIELDS`` follow the registry (a data descriptor on the metaclass wins
    over the class's own attribute, so instances keep the fields they were built with)."""

    @property
    def FIELDS(cls) -> tuple[str, ...]:
        return counter_fields()


class DayCounts(metaclass=_CountsFields):
    """Today's flows, per market; reset at the start of each day.

    The fields are the counters declared by the registered metrics and by ``register_counter``,
    fixed when the counts are built.
    """

    def __init__(self, n_markets: int) -> None:
        object.__setattr__(self, "n_markets", n_markets)
        object.__setattr__(self, "fields", counter_fields())
        # One (counter, market) table; each counter's attribute is a view of its row, so the
        # day's reset and the run totals are one array operation each.
        object.__setattr__(self, "table", np.zeros((len(self.fields), n_markets)))
        object.__setattr__(self, "_row", {f: i for i, f in enumerate(self.fields)})
        for i, f in enumerate(self.fields):
            object.__setattr__(self, f, self.table[i])

    def __setattr__(self, name: str, value: object) -> None:
        row = self.__dict__["_row"].get(name)
        if row is None:
            object.__setattr__(self, name, value)
        else:  # ``counts.x = ...`` or ``counts.x += ...``: the values go into the table's row
            self.table[row] = value

    @property
    def FIELDS(self) -> tuple[str, ...]:
        return self.fields

    @property
    def rows(self) -> dict[str, int]:
        """Each counter's row in ``table``."""
        return self._row

    def reset(self) -> None:
        self.table.fill(0.0)

    def sums(self, market: int | None = None) -> dict[str, float]:
        """Every counter's value today, summed over markets (``market`` None) or in one market."""
        values = self.table.sum(axis=1) if market is None else self.table[:, market]
        return dict(zip(self.fields, values.tolist(), strict=True))

    def add(self, field: str, market: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add per-item values (or counts) grouped by market."""
        if not market.size:  # nothing to add (a counter is never -0.0, so adding zeros is a no-op)
            return
        row = getattr(self, field)  # a view of the counter's row of ``table``
        np.add(row, np.bincount(market, weights=weights, minlength=self.n_markets), out=row)

    def add_many(self, market: np.ndarray, values: dict[str, np.ndarray | None]) -> None:
        """``add(field, market, weights)`` for several distinct counters over the same items (None:
        count them) in one bincount. Each counter gets the one addition ``add`` would make: a
        bin's weights are summed in item order either way."""
        if not market.size:
            return
        k, n_m, n_f = market.size, self.n_markets, len(values)
        rows = np.array([self._row[f] for f in values], dtype=np.intp)  # distinct: a dict's keys
        weights = np.empty(n_f * k)
        for i, w in enumerate(values.values()):
            weights[i * k : (i + 1) * k] = 1.0 if w is None else w
        key = np.repeat(np.arange(n_f) * n_m, k) + np.tile(market, n_f)
        self.table[rows] += np.bincount(key, weights=weights, minlength=n_f * n_m).reshape(n_f, n_m)

    def add_by_tactic(self, prefix: str, market: np.ndarray, tactic: np.ndarray,
                      weights: np.ndarray | None = None) -> None:
        """Add per-item values (or counts) grouped by market to the counters ``<prefix>_<tactic
        name>``, each item to the counter of its tactic code (items of a clean stream, code 0,
        and of a tactic without such a counter are not counted). One bincount over (tactic,
        market); the loop runs over tactics."""
        if not market.size:
            return
        n_m = self.n_markets
        names = tactic_names()
        key = tactic.astype(np.int64) * n_m + market
        by = np.bincount(key, weights=weights, minlength=len(names) * n_m).reshape(-1, n_m)
        codes, rows = self._tactic_rows(prefix, names)
        if rows.size:
            self.table[rows] += by[codes]  # distinct rows: each counter gets one addition

    def _tactic_rows(self, prefix: str, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Tactic codes (not 0) with a counter ``<prefix>_<name>``, and those counters' rows;
        worked out once per prefix and tactic registry state."""
        cache = self.__dict__.setdefault("_by_tactic", {})
        hit = cache.get(prefix)
        if hit is not None and hit[0] == names:
            return hit[1], hit[2]
        pairs = [(code, self._row[f"{prefix}_{name}"]) for code, name in enumerate(names[1:], start=1)
                 if f"{prefix}_{name}" in self._row]
        codes = np.array([c for c, _ in pairs], dtype=np.intp)
        rows = np.array([r for _, r in pairs], dtype=np.intp)
        cache[prefix] = (names, codes, rows)
        return codes, rows


# ---------------------------------------------------------------------------------------
# The daily table and the run summary
# ---------------------------------------------------------------------------------------


def _markets(model: LiveShopModel) -> list[tuple[str, int | None]]:
    return [("all", None), *((name, i) for i, name in enumerate(model.market_names))]


_FORMS = ("count", "difference", "sum", "ratio")


class _DayPlan(NamedTuple):
    """How today's metrics are evaluated (see ``_day_plan``)."""

    names: tuple[str, ...]  # every metric, in registry order
    arithmetic: list[tuple[str, np.ndarray, np.ndarray]]  # per kind of arithmetic: its counters' rows
    place: np.ndarray  # per metric, its row among the arithmetic's values (the last row, NaN, for the others)
    rules: list[tuple[int, Callable[[DayView], float]]]  # the other metrics: position and function to call


def _day_plan(counts: DayCounts) -> _DayPlan:
    """How today's metrics are evaluated, worked out once per registry state and kept on the counts:
    which metrics are plain arithmetic on day counters (and on which counters' rows, by kind of
    arithmetic), where each metric's value sits among the arithmetic's values, and which
    metrics' rules must be called (with their positions in registry order)."""
    key = tuple(METRICS.values())
    cached = counts.__dict__.get("_plan")
    if cached is not None and cached[0] == key:
        return cached[1]
    row = counts.rows
    groups: dict[str, tuple[list[str], list[int], list[int]]] = {form: ([], [], []) for form in _FORMS}
    for name, metric in METRICS.items():
        rule = metric.daily
        form = getattr(rule, "form", "")
        if form in groups and all(f in row for f in rule.counters):
            names, a, b = groups[form]
            names.append(name)
            a.append(row[rule.counters[0]])
            b.append(row[rule.counters[-1]])
    index: dict[str, int] = {}
    arithmetic = []
    for form, (names, a, b) in groups.items():
        if names:
            arithmetic.append((form, np.array(a, dtype=np.intp), np.array(b, dtype=np.intp)))
            index.update((name, len(index)) for name in names)
    place = np.array([index.get(name, len(index)) for name in METRICS], dtype=np.intp)
    rules = [(p, getattr(m.daily, "compute", m.daily)) for p, (name, m) in enumerate(METRICS.items())
             if name not in index]
    plan = _DayPlan(tuple(METRICS), arithmetic, place, rules)
    object.__setattr__(counts, "_plan", (key, plan))
    return plan


def _counter_arithmetic(arithmetic: list[tuple[str, np.ndarray, np.ndarray]], sums: np.ndarray) -> np.ndarray:
    """Today's values of the metrics whose rule is plain arithmetic on day counters (``count``,
    ``ratio``, ``difference``, ``sum_of``), a (metric, view) table (views: platform, then each
    market) with a last row of NaN, from the (counter, view) table of sums: one array operation
    per kind of rule instead of one call per metric and market. Each value is the one the rule
    computes (the same float operation)."""
    blocks = []
    for form, a, b in arithmetic:
        x = sums[a]
        if form == "count":
            blocks.append(x)
            continue
        y = sums[b]
        if form == "difference":
            blocks.append(x - y)
        elif form == "sum":
            blocks.append(x + y)
        else:  # ratio: NaN when the denominator is not positive
            blocks.append(np.divide(x, y, out=np.full(x.shape, np.nan), where=y > 0))
    blocks.append(np.full((1, sums.shape[1]), np.nan))
    return np.concatenate(blocks)


def day_metrics(model: LiveShopModel) -> dict[str, dict[str, float]]:
    """Today's value of every registered metric for the whole platform (``"all"``) and each market."""
    today = _Today(model)
    counts = model.counts
    plan = _day_plan(counts)
    # Every counter summed per view: column 0 the platform, column 1 + m market m.
    sums = np.concatenate([counts.table.sum(axis=1)[:, None], counts.table], axis=1)
    values = _counter_arithmetic(plan.arithmetic, sums)[plan.place].T.tolist()  # per view, in registry order
    columns = sums.T.tolist()
    out: dict[str, dict[str, float]] = {}
    for j, (key, market) in enumerate(_markets(model)):
        view = DayView(model, today, key, market, columns[j])
        row = values[j]
        for p, rule in plan.rules:
            row[p] = rule(view)
        out[key] = dict(zip(plan.names, row, strict=True))
    return out


def run_summary(model: LiveShopModel, daily: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Whole-run values per market and ``"all"``: each registered metric's summary rule applied to
    its daily series (``daily[market][metric]``, one value per day from day 1) and the run totals.

    The summaries leave out the warm-up (``scenario.warmup_days``): a rule sees the daily values
    of the days after it, and totals of those days only (``model.totals``); a stock (``LAST_DAY``)
    is the last day's value whatever the warm-up."""
    run = _Run(model)
    skip = run.warmup
    out: dict[str, dict[str, float]] = {}
    for key, market in _markets(model):
        view = RunView(model, run, key, market)
        series = daily[key]
        out[key] = {name: metric.summarize(view, series[name][skip:]) for name, metric in METRICS.items()}
    return out


# ---------------------------------------------------------------------------------------
# The built-in scorecard
# ---------------------------------------------------------------------------------------

# Daily rules of the metrics that read model state beyond the day counters.


def _buyer_trust(v: DayView) -> float:
    return _ratio(v.stock(v.today.trust_sum), v.stock(v.today.active_buyers))


def _buyer_retention(v: DayView) -> float:
    return _ratio(v.stock(v.today.initial_buyers_active), v.stock(v.today.initial_buyers))


def _honest_creator_income(v: DayView) -> float:
    t = v.today
    return _median(t.income[v.within(t.honest_live)])


def _honest_creator_retention(v: DayView) -> float:
    t, j = v.today, v.column
    return _ratio(float(t.tally("day0_honest", "present")[j]), float(t.tally("day0_honest")[j]))


def _creator_gini(v: DayView) -> float:
    return gini(v.present_gmv30)


def _top1pct_gmv_share(v: DayView) -> float:
    return top_share(v.present_gmv30)


def _adversary_share(v: DayView) -> float:
    t, j = v.today, v.column
    return _ratio(float(t.tally("adversary", "live")[j]), float(t.tally("live")[j]))


def _time_to_action(v: DayView) -> float:
    t = v.today
    return _median(t.decision_delay if v.market is None else t.decision_delay[t.decision_market == v.market])


def _hours_to_action(log: DecisionLog, rows: np.ndarray) -> np.ndarray:
    """Hours from violation to decision of decision-log rows ``rows``."""
    days = (log.col("day")[rows] - log.col("violation_day")[rows]).astype(float)
    return 24.0 * days + log.col("decision_hour")[rows] - log.col("violation_hour")[rows]


def _quantile(x: np.ndarray, q: float) -> float:
    """The ``q`` quantile, undefined (NaN) for no values.

    For floats it is ``np.quantile``'s default (linear) value bit for bit: the virtual index
    ``(n - 1) q`` between two order statistics ``a`` and ``b``, interpolated as numpy does
    (``a + (b - a) t``, or ``b - (b - a)(1 - t)`` when ``t >= 0.5``), the largest value at or
    past the end, NaN when any value is NaN; without np.quantile's dispatch cost."""
    if not x.size:
        return float("nan")
    if x.dtype != np.float64 or not 0.0 <= q <= 1.0:
        return float(np.quantile(x, q))
    s = np.sort(x)
    if s[-1] != s[-1]:  # NaN sorts last
        return float("nan")
    v = (s.size - 1) * q
    if v >= s.size - 1:
        return float(s[-1])
    i = int(v)  # floor: v >= 0
    t = v - i
    a, b = float(s[i]), float(s[i + 1])
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


def _tta_hours(q: float) -> Callable[[DayView], float]:
    def rule(v: DayView) -> float:
        t = v.today
        h = t.decision_hours if v.market is None else t.decision_hours[t.decision_market == v.market]
        return _quantile(h, q)
    return rule


def _tta_hours_run(q: float) -> Callable[[RunView, Sequence[float]], float]:
    def rule(v: RunView, series: Sequence[float]) -> float:
        """Quantile over every decision after the warm-up (not of the daily quantiles)."""
        log = v.model.governance.enforcer.log
        keep = log.col("day") > v.run.warmup
        if v.market is not None:
            keep &= log.col("market") == v.market
        return _quantile(_hours_to_action(log, np.flatnonzero(keep)), q)
    return rule


def _queue_backlog(v: DayView) -> float:
    return v.stock(v.today.backlog)


def _active_buyers(v: DayView) -> float:
    return v.stock(v.today.active_buyers)


def _active_creators(v: DayView) -> float:
    return float(v.today.tally("live")[v.column])


def _paired_run_only(v: DayView) -> float:
    """Undefined inside one model: the value needs the paired twin run (sim.runner.run sets it)."""
    return float("nan")


def _honest_sanctioned_per_10k(v: DayView) -> float:
    t, j = v.today, v.column
    return _ratio(10_000.0 * float(t.tally("honest", "sanctioned")[j]), float(t.tally("honest")[j]))


# Summary rules of the metrics whose whole-run value is not an aggregate of the daily series.


def _paired_run_only_run(v: RunView, series: Sequence[float]) -> float:
    return float("nan")


def _time_to_action_run(v: RunView, series: Sequence[float]) -> float:
    """Median over every decision after the warm-up (not a median of daily medians)."""
    log = v.model.governance.enforcer.log
    in_market = np.ones(log.n, dtype=bool) if v.market is None else log.col("market") == v.market
    in_market &= log.col("day") > v.run.warmup
    return _median((log.col("day") - log.col("violation_day"))[in_market].astype(float))


def _honest_creator_income_run(v: RunView, series: Sequence[float]) -> float:
    """Median over honest creators of their earnings after the warm-up per 30 days present then."""
    days_present = v.run.days_present
    eligible = v.run.honest & v.creators & (days_present >= 1)
    monthly = v.run.since_warmup("earnings")[eligible] * 30.0 / days_present[eligible]
    return _median(monthly)


def _creator_gini_run(v: RunView, series: Sequence[float]) -> float:
    return gini(v.run.since_warmup("gmv")[v.creators])


def _top1pct_gmv_share_run(v: RunView, series: Sequence[float]) -> float:
    return top_share(v.run.since_warmup("gmv")[v.creators])


def _m(name: str, unit: str, description: str, better: bool | None, daily: DailyRule | Callable[[DayView], float],
       summarize: SummaryRule | Callable[[RunView, Sequence[float]], float], summary: str = "") -> Metric:
    return register_metric(Metric(name, unit, description, better, daily, summarize, summary=summary))


# The order is the column order of the daily table (part of the output format).
_m("gmv", "currency", "on-platform gross merchandise value placed", True, count("gmv"), TOTAL)
_m("net_gmv", "currency", "GMV minus refunds paid", True, difference("gmv", "refund_value"),
   total_of_difference("gmv", "refund_value"))
_m("orders", "orders", "on-platform orders placed", True, count("orders"), TOTAL)
_m("refund_rate", "share", "share of settled orders that were refunded", False, ratio("refunded", "settled"),
   ratio_of_totals("refunded", "settled"))
_m("prevalence", "share", "share of stream views that were views of violating streams", False,
   ratio("violating_views", "views"), ratio_of_totals("violating_views", "views"))
_m("harmful_gmv_share", "share", "share of GMV placed on violating streams", False, ratio("violating_gmv", "gmv"),
   ratio_of_totals("violating_gmv", "gmv"))
_m("buyer_harm", "currency", "money buyers lost to bad orders not made good (incl. off-platform)", False,
   count("buyer_harm"), TOTAL)
_m("buyer_trust", "score 0-1", "mean trust of active buyers", True, _buyer_trust, LAST_DAY)
_m("buyer_retention", "share", "share of the buyers present on day 0 still active", True, _buyer_retention, LAST_DAY)
_m("honest_creator_income", "currency / 30 days",
   "median earnings of active honest creators over the last 30 days (expected income fills days before day 1)",
   True,
   _honest_creator_income, _honest_creator_income_run,
   "median over honest creators of post-warm-up earnings per 30 days present")
_m("honest_creator_retention", "share", "share of day-0 honest creators still on the platform", True,
   _honest_creator_retention, LAST_DAY)
_m("creator_gini", "0-1", "Gini coefficient of creator GMV (trailing 30 days)", None, _creator_gini,
   _creator_gini_run, "over post-warm-up GMV of all creators")
_m("top1pct_gmv_share", "share", "share of GMV made by the top 1 % of creators (trailing 30 days)", None,
   _top1pct_gmv_share, _top1pct_gmv_share_run, "over post-warm-up GMV")
_m("adversary_share", "share", "adversarial share of live creators (pilot or active, not suspended)", False,
   _adversary_share, LAST_DAY)
_m("adversary_profit", "currency", "profit of adversarial creators net of their costs", False,
   count("adversary_profit"), TOTAL)
_m("incentive_spend", "currency", "incentive bonuses paid", None, count("incentive_spend"), TOTAL)
_m("incentive_roi", "ratio",
   "incremental net GMV per unit of bonus paid: (net_gmv - net_gmv of the paired twin run without the "
   "incentive programmes) / incentive_spend, cumulative to the day; set by sim.runner.run, which runs the "
   "twin (same seed and replication) when the scenario has programmes, undefined otherwise", True,
   _paired_run_only, _paired_run_only_run, "(net_gmv - twin net_gmv) / incentive_spend, over the run")
_m("incentive_induced_roi", "ratio",
   "diagnostic: net GMV of streams the programmes' effort boost induced, per unit of bonus paid (cumulative; "
   "crowding-out of other creators not subtracted; incentive_roi is the paired effect)", None,
   cumulative_ratio("induced_net_gmv", "incentive_spend"), ratio_of_totals("induced_net_gmv", "incentive_spend"))
_m("incentive_fraud_share", "share", "share of incentive bonuses paid to adversarial creators", False,
   ratio("adversary_bonus_spend", "incentive_spend"), ratio_of_totals("adversary_bonus_spend", "incentive_spend"))
_m("actions", "decisions", "enforcement decisions (confirmed violations sanctioned)", None, count("actions"), TOTAL)
_m("enforcement_precision", "share", "share of enforcement decisions on streams that really violated", True,
   ratio("actions_real", "actions"), ratio_of_totals("actions_real", "actions"))
_m("enforcement_recall", "share", "share of violating streams that drew at least one enforcement decision", True,
   ratio("violations_actioned", "violating_streams"), ratio_of_totals("violations_actioned", "violating_streams"))
_m("wrongful_bans", "bans", "bans triggered by a decision on a stream that did not violate", False,
   count("wrongful_bans"), TOTAL)
_m("proactive_rate", "share", "share of actioned violations found by classifiers before any user report", True,
   ratio("proactive_actions", "actions_real"), ratio_of_totals("proactive_actions", "actions_real"))
_m("time_to_action", "days", "median days from violation to enforcement decision", False, _time_to_action,
   _time_to_action_run, "median over all decisions after the warm-up")
_m("queue_backlog", "items", "flagged items waiting for review at the end of the day", False, _queue_backlog, MEAN)
_m("time_to_action_p50_h", "hours", "median hours from violation (stream live) to enforcement decision, queue "
   "waits included", False, _tta_hours(0.5), _tta_hours_run(0.5), "median over all decisions after the warm-up")
_m("time_to_action_p90_h", "hours", "90th percentile of hours from violation to enforcement decision", False,
   _tta_hours(0.9), _tta_hours_run(0.9), "90th percentile over all decisions after the warm-up")
_m("expired_items", "items", "queued items that passed the review SLA unreviewed and were dropped", False,
   count("expired_items"), TOTAL)
_m("expired_reactive_items", "items", "expired items raised by users (reports, complaint spikes), not by classifiers",
   False, count("expired_reactive_items"), TOTAL)
_m("pending_items", "items", "items in the review queue at the end of the day (the summary: at the end of the run)",
   False, _queue_backlog, LAST_DAY)
_m("review_utilisation", "share", "review capacity used: human reviews of flags and appeal decisions per "
   "review slot", None, ratio("capacity_used", "review_capacity"), ratio_of_totals("capacity_used", "review_capacity"))
_m("appeals", "appeals", "appeals filed by sanctioned creators", None, count("appeals"), TOTAL)
_m("appeal_overturn_rate", "share", "share of decided appeals that overturned the decision", None,
   ratio("overturns", "appeal_decisions"), ratio_of_totals("overturns", "appeal_decisions"))
_m("ban_evasions", "accounts", "banned evaders who re-entered through onboarding checks", False,
   count("ban_evasions"), TOTAL)
_m("moderation_cost", "currency", "cost of reviews, auto-actions and appeals", False, count("moderation_cost"), TOTAL)
_m("bans", "bans", "accounts banned", None, count("bans"), TOTAL)
_m("violations", "streams", "violating streams held (ground truth)", False, count("violating_streams"), TOTAL)
_m("flags", "items", "streams or creators flagged by classifiers, reports or complaint spikes", None,
   count("flags"), TOTAL)
_m("reviews", "items", "flags decided: reviewed by people or auto-actioned", None, sum_of("reviews", "auto_actions"),
   TOTAL)
_m("overturns", "decisions", "decisions overturned on appeal", None, count("overturns"), TOTAL)
_m("streams", "streams", "live streams held", None, count("streams"), TOTAL)
_m("views", "views", "stream views (buyer sessions that reached a stream)", None, count("views"), TOTAL)
_m("offplatform_gmv", "currency", "sales diverted off the platform", False, count("offplatform_gmv"), TOTAL)
_m("complaints", "complaints", "buyer complaints about settled orders", False, count("complaints"), TOTAL)
_m("reports", "reports", "buyer reports of streams (true and false)", None, count("reports"), TOTAL)
_m("active_buyers", "buyers", "buyers still shopping", True, _active_buyers, LAST_DAY)
_m("active_creators", "creators", "creators able to go live (pilot or active, not suspended)", None,
   _active_creators, LAST_DAY)
# What each built-in incentive programme type pays (sim/platform/programmes/; each adds to
# incentive_spend as well). Kept last so that the columns before them keep their places.
_m("gmv_bonus_spend", "currency", "bonuses paid by gmv_bonus programmes (share of period GMV above a threshold)",
   None, count("gmv_bonus_spend"), TOTAL)
_m("quality_bonus_spend", "currency",
   "bonuses paid by quality_bonus programmes (period GMV above a floor, clean orders, few complaints)", None,
   count("quality_bonus_spend"), TOTAL)
_m("new_creator_support_spend", "currency", "bonuses paid by new_creator_support programmes to creators in their "
   "first days", None, count("new_creator_support_spend"), TOTAL)

# Stylized-fact metrics (scenarios/targets/public_facts.toml checks runs against them). Kept
# after the programme spends so that the columns before them keep their places.


def _campaign_day(v: DayView) -> bool:
    """Whether a campaign is in force today in this market (in any market, for the platform)."""
    return any(run.active and (v.market is None or bool(run.market_mask[v.market]))
               for run in v.model.timeline.campaigns)


def _campaign_gmv(v: DayView) -> float:
    return v.count("gmv") if _campaign_day(v) else float("nan")


def _campaign_gmv_multiple_run(v: RunView, series: Sequence[float]) -> float:
    """Mean daily GMV on campaign days over the mean daily GMV on the other days."""
    values = np.asarray(series, dtype=float)
    on = ~np.isnan(values)
    n_on, n_off = int(on.sum()), int((~on).sum())
    if n_on == 0 or n_off == 0:
        return float("nan")
    campaign_total = float(values[on].sum())
    return _ratio(campaign_total / n_on, (v.total("gmv") - campaign_total) / n_off)


_m("notice_action_rate", "share", "share of user reports whose stream drew an enforcement decision (a notice "
   "is actioned when the content it reported is, whichever signal raised the decision)", None,
   ratio("actioned_reports", "reports"), ratio_of_totals("actioned_reports", "reports"))
_m("campaign_gmv_multiple", "ratio", "GMV placed on a campaign day (blank on other days); the run value is the "
   "mean campaign-day GMV over the mean GMV of the other days", None, DailyRule(_campaign_gmv, ("gmv",)),
   SummaryRule("", _campaign_gmv_multiple_run, ("gmv",)), "mean campaign-day GMV over mean other-day GMV")
_m("conversion_rate", "share", "orders placed per stream view", None, ratio("orders", "views"),
   ratio_of_totals("orders", "views"))

# Harm and enforcement that fall on honest creators (their accidental breaches are real
# violations, so a sanction for one is right; a ban on a clean stream is not). Kept after the
# columns above so that those keep their places.
_m("honest_wrongful_bans", "bans", "bans of honest creators triggered by a decision on a stream that did not "
   "violate", False, count("honest_wrongful_bans"), TOTAL)
_m("honest_sanctioned_per_10k", "per 10,000 creators",
   "honest creators with at least one enforcement decision standing against them (not overturned on appeal; "
   "lapsed points still count), per 10,000 honest creator accounts created so far (including those who left)",
   False, _honest_sanctioned_per_10k, LAST_DAY)

# Flags and decisions split by ground truth, for the enforcement funnel (violations -> true flags
# -> actions; false flags -> false actions): true_flags + false_flags = flags and false_actions =
# actions - decisions on real violations, exactly, per market and day. Kept after the columns
# above so that those keep their places.
_m("true_flags", "items", "flags (from any signal source) on items that really violated: a violating stream, or, "
   "for a flag on an account, a creator whose last violation was at most 7 days before the flag", None,
   count("flags_real"), TOTAL)
_m("false_flags", "items", "flags (from any signal source) on items that did not violate: a clean stream, or, for "
   "a flag on an account, a creator with no violation in the 7 days before the flag (flags - true_flags)", False,
   difference("flags", "flags_real"), total_of_difference("flags", "flags_real"))
_m("false_actions", "decisions", "enforcement decisions on items that did not violate (actions - decisions on real "
   "violations); counted on the decision day, overturned ones included", False,
   difference("actions", "actions_real"), total_of_difference("actions", "actions_real"))


# Per-tactic prevalence and recall: one pair for every registered tactic (the typologies, the
# accidental breach and any tactic registered from outside livesim), added when the tactic is
# registered and removed with it, after every other column. Over the pairs, the prevalences sum
# to ``prevalence`` and the recall numerators and denominators to those of
# ``enforcement_recall``: a violating stream has exactly one tactic. The phases record the
# counters with ``DayCounts.add_by_tactic``: views (recommender), violating streams (plan) and
# violations actioned (governance), by the stream's true tactic.
_TACTIC_METRICS: dict[str, tuple[str, ...]] = {}  # tactic name -> its metrics' names


def tactic_metrics(name: str) -> tuple[Metric, Metric]:
    """The metric pair of tactic ``name``: ``prevalence_<name>`` and ``recall_<name>``."""
    return (
        Metric(f"prevalence_{name}", "share", f"share of stream views that were views of streams violating "
               f"with {name}", False, ratio(f"violating_views_{name}", "views"),
               ratio_of_totals(f"violating_views_{name}", "views")),
        Metric(f"recall_{name}", "share", f"share of {name} violating streams that drew at least one "
               f"enforcement decision", True, ratio(f"violations_actioned_{name}", f"violating_streams_{name}"),
               ratio_of_totals(f"violations_actioned_{name}", f"violating_streams_{name}")),
    )


def _sync_tactic_metrics() -> None:
    """Follow the tactic registry: add the pair of each new tactic, drop those of removed ones."""
    registered_now = {k.name for k in tactic_kinds()}
    for name in [n for n in _TACTIC_METRICS if n not in registered_now]:
        for metric in _TACTIC_METRICS.pop(name):
            METRICS.pop(metric, None)
    for kind in tactic_kinds():
        if kind.name not in _TACTIC_METRICS:
            pair = tactic_metrics(kind.name)
            for metric in pair:
                register_metric(metric)
            _TACTIC_METRICS[kind.name] = tuple(m.name for m in pair)


on_tactics_change(_sync_tactic_metrics)

# Counters the phases record that no metric reads: sessions drawn, false reports, reviews of items
# raised by users (not proactive), evaders caught at onboarding, views cut short by an interruption, and the
# days-to-action sum. A phase module may register its own the same way.
register_counter("sessions", "false_reports", "ban_evasions_caught", "interrupted_views", "reactive_reviews",
                 "time_to_action_sum")


# ---------------------------------------------------------------------------------------
# Run metrics: whole-run values with no daily series, present only in the runs they apply to
# ---------------------------------------------------------------------------------------
#
# Some outcomes are defined only for some runs: how long an abuse trend took to contain needs a
# trend, how many actions controllers took needs controllers. They are registered here, by name
# like every metric, and added to the run summaries (summary.json ``metrics`` and ``by_market``,
# sweep summary shards) of the runs whose scenario they apply to, and only there: a run without
# trends or controllers has exactly the summaries it had before they existed.


@dataclass(frozen=True)
class RunMetric:
    """A whole-run metric of some runs: ``compute(model, series)`` returns its value per summary
    key (``"all"`` and each market) from the finished model and the daily series; ``applies``
    says for which scenarios it exists."""

    name: str
    unit: str
    description: str
    higher_is_better: bool | None
    compute: Callable[[LiveShopModel, dict[str, dict[str, list[float]]]], dict[str, float]]
    applies: Callable[[object], bool]


RUN_METRICS: dict[str, RunMetric] = {}
"""Run metrics by name (see :class:`RunMetric`)."""


def register_run_metric(metric: RunMetric) -> RunMetric:
    """Add a run metric to the registry (names are shared with ``METRICS``)."""
    if metric.name in RUN_METRICS or metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is already registered")
    RUN_METRICS[metric.name] = metric
    return metric


def run_metrics(model: LiveShopModel, series: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """The run metrics that apply to the model's scenario, per summary key (empty if none apply)."""
    out: dict[str, dict[str, float]] = {}
    for metric in RUN_METRICS.values():
        if metric.applies(model.config):
            for key, value in metric.compute(model, series).items():
                out.setdefault(key, {})[metric.name] = float(value)
    return out


# Containment of an abuse trend. The trend's prevalence is the views-weighted prevalence of its
# tactic (prevalence_<tactic>) over its markets, as a trailing 7-day mean. Its band's upper edge
# is the larger of the pre-onset level (mean over the 28 days before onset) x 1.5 plus 0.1 % of
# views (so that a tactic absent before the onset has a band at all) and the highest 7-day mean
# of those 28 days (a level the prevalence already reached before the onset is within its normal
# range: with few streams a single violating stream moves a day's prevalence by about 1 %). The
# trend is contained on the first day, after the prevalence first left the band, from which it
# stays inside the band for 7 days in a row. A trend that never left the band takes 0 days; one
# still outside at the end of the run is counted up to the run's end (censored: a lower bound on
# its true time), and ``trend_contained`` says so.
CONTAINMENT_BAND_FACTOR = 1.5
CONTAINMENT_BAND_FLOOR = 0.001
CONTAINMENT_SMOOTH_DAYS = 7
CONTAINMENT_BASELINE_DAYS = 28
CONTAINMENT_HOLD_DAYS = 7


def _trend_prevalence(series: dict[str, dict[str, list[float]]], markets: list[str], tactic: str) -> np.ndarray:
    views = np.array([series[m]["views"] for m in markets], dtype=float)
    prev = np.nan_to_num(np.array([series[m][f"prevalence_{tactic}"] for m in markets], dtype=float))
    total = views.sum(axis=0)
    return np.divide((prev * views).sum(axis=0), total, out=np.zeros(total.shape), where=total > 0)


def _smoothed(p: np.ndarray) -> np.ndarray:
    """Trailing ``CONTAINMENT_SMOOTH_DAYS``-day mean (over the days so far at the start)."""
    k = CONTAINMENT_SMOOTH_DAYS
    return np.convolve(p, np.ones(k), "full")[: p.size] / np.minimum(np.arange(1, p.size + 1), k)


def containment_band(p: np.ndarray, onset: int) -> float:
    """Upper edge of a trend's band from its daily prevalence ``p`` (day 1 first) before ``onset``."""
    lo = max(0, onset - 1 - CONTAINMENT_BASELINE_DAYS)
    base = p[lo: onset - 1]
    if not base.size:
        return CONTAINMENT_BAND_FLOOR
    return max(CONTAINMENT_BAND_FACTOR * float(base.mean()) + CONTAINMENT_BAND_FLOOR,
               float(_smoothed(p)[lo: onset - 1].max()))


def containment(series: dict[str, dict[str, list[float]]], markets: list[str], tactic: str,
                onset: int) -> tuple[int, int, bool]:
    """(days from onset to containment, the first day counted as contained (or the day after the
    run), whether it was contained) of a trend of ``tactic`` in ``markets`` from ``onset``."""
    p = _trend_prevalence(series, markets, tactic)
    days = p.size
    smooth = _smoothed(p)
    upper = containment_band(p, onset)
    after = np.arange(days) >= onset - 1
    out = np.flatnonzero(after & (smooth > upper))
    if not out.size:
        return 0, onset, True
    inside = smooth <= upper
    for d in range(out[0] + 1, days - CONTAINMENT_HOLD_DAYS + 1):
        if inside[d: d + CONTAINMENT_HOLD_DAYS].all():
            return d + 1 - onset, d + 1, True
    return days + 1 - onset, days + 1, False


def _trend_keys(model: LiveShopModel) -> list[tuple[str, list[str], str, int]]:
    """(summary key, its markets, tactic, onset) for each trend and each key it concerns."""
    out = []
    for t in model.timeline.trends:
        markets = [n for n, on in zip(model.market_names, t.market_mask, strict=True) if on]
        out.append(("all", markets, t.cfg.tactic, t.cfg.start_day))
        out.extend((m, [m], t.cfg.tactic, t.cfg.start_day) for m in markets)
    return out


def _time_to_containment(model: LiveShopModel, series: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, markets, tactic, onset in _trend_keys(model):
        out[key] = max(out.get(key, 0.0), float(containment(series, markets, tactic, onset)[0]))
    return out


def _trend_contained(model: LiveShopModel, series: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, markets, tactic, onset in _trend_keys(model):
        out[key] = min(out.get(key, 1.0), float(containment(series, markets, tactic, onset)[2]))
    return out


def _harm_during_trend(model: LiveShopModel, series: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, markets, tactic, onset in _trend_keys(model):
        _, end, _ = containment(series, markets, tactic, onset)
        harm = sum(float(np.nansum(series[m]["buyer_harm"][onset - 1: end - 1])) for m in markets)
        out[key] = out.get(key, 0.0) + harm
    return out


def _controller_actions(model: LiveShopModel, series: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    log = model.monitor.controllers.panel.log if model.monitor.controllers is not None else []
    out = {m: float(sum(1 for a in log if a["market"] == m)) for m in model.market_names}
    out["all"] = float(len(log))
    return out


register_run_metric(RunMetric(
    "time_to_containment", "days", "days from an abuse trend's onset until its prevalence (7-day mean) is back "
    "within 1.5x its pre-onset level (+0.1 % of views, or its highest 7-day mean in the 28 days before onset if "
    "higher) for 7 days in a row (the longest over the run's trends; censored at the run's end: see "
    "trend_contained)", False, _time_to_containment, lambda s: any(e.kind == "trend" for e in s.timeline)))
register_run_metric(RunMetric(
    "trend_contained", "flag", "1 if every abuse trend was contained before the run's end, 0 if one was still "
    "outside its band (its time_to_containment is then censored: a lower bound)", True, _trend_contained,
    lambda s: any(e.kind == "trend" for e in s.timeline)))
register_run_metric(RunMetric(
    "harm_during_trend", "currency", "buyer harm in an abuse trend's markets from its onset until it is contained "
    "(or the run ends), summed over the run's trends", False, _harm_during_trend,
    lambda s: any(e.kind == "trend" for e in s.timeline)))
register_run_metric(RunMetric(
    "controller_actions", "actions", "changes and extensions made by the run's controllers", None,
    _controller_actions, lambda s: bool(s.controllers)))
