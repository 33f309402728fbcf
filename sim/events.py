"""The run's event log (``events.parquet``): one row per thing that happened, in order.

A policy designer reading a case ("why was this honest creator banned?") needs the creator's
story in one table: the streams the platform looked at (what the creator really did and what the
platform believed), the flags and where they came from, what reviewers decided, the decisions
with their points, sanctions and standing, appeals and overturns, and how the account's traffic
and earnings went. Platform-level events (campaigns; later monitoring alerts and controller
actions) go into the same table with no creator.

One row per event; the columns are generic and nullable, and ``kind`` says which apply:

==================  ======================================================================
kind                what happened (columns filled besides day, market, creator_id)
==================  ======================================================================
joined              an account opened (creator_type, actor; note ``re-entry`` for an evader's
                    new account)
stream              a stream that violated or was flagged (hour it went live, true_label,
                    views, reports, gmv; when flagged: source of the first flag, believed: the
                    violation the flag named, outcome ``queued`` for review or ``auto``-actioned)
flag                an account was flagged (a complaint spike: not about one stream) (hour,
                    about_day: the day of the stream it is judged on, true_label, believed,
                    source, outcome ``queued`` or ``auto``)
review              a reviewer decided a queued item, or it expired (hour, about_day,
                    true_label, believed, source, outcome ``confirmed``/``dismissed``/``expired``)
decision            an enforcement decision (hour, about_day, true_label, believed, source,
                    outcome ``auto``/``reviewed``, points, standing: the ladder value at the end
                    of that day, sanction, until_day: the last day a sanction runs, amount:
                    commission held or forfeited)
appeal_filed        the creator appealed a decision (about_day: the decision's day)
appeal_decided      outcome ``upheld`` or ``overturned`` (about_day: the decision's day)
points_lapsed       a decision's points expired (about_day: the decision's day, points)
commission_forfeited  commission held by a decision went to the platform (amount)
left                the account closed (outcome ``banned`` or ``churned``)
week                the account's week: views, gmv, earnings (whole currency units) over the 7
                    days to ``day``, standing and state at its end (every 7th day and the last day)
campaign            platform-level: a campaign ran from ``day`` to ``until_day`` (note: name)
==================  ======================================================================

``true_label`` is the ground truth (a tactic name, ``none`` for a clean stream), kept apart from
``believed`` (what the platform thought it was); a reader of the platform's view uses only the
latter. Other kinds add their own nullable columns (a controller action: ``controller``,
``change``, ``reason``) through :meth:`EventLog.add`; readers ignore columns they do not know and
treat missing ones as null. Rows are ordered by day, then by the phase of the day the event
belongs to (:data:`KINDS` order), then by hour (kept to 0.01 h; sanctions.parquet has the exact
hours) and creator.

Recording draws no random numbers and changes no state: a run's results are the same with the
log on or off. The per-day hooks store slices of arrays the phases already computed; the rows
that the decision log (``sim.platform.enforcement``) and the creator table already hold are
derived from them when the frame is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.labels import CreatorState

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["COLUMNS", "KINDS", "EventLog", "NoEvents", "creator_ids"]

# Kinds in the order their events happen within a day (the sort key after the day).
KINDS = ("campaign", "stream", "flag", "appeal_filed", "appeal_decided", "review", "decision", "points_lapsed",
         "commission_forfeited", "joined", "left", "week")

# The core columns, always present, in this order (dtype as written to Parquet).
COLUMNS: dict[str, str] = {
    "day": "int32",
    "hour": "float64",  # hour of the day (0-24; past 24: after midnight), NaN when not known
    "kind": "category",
    "market": "category",  # null for a platform-wide event
    "creator_id": "Int64",  # null for a platform-level event
    "about_day": "Int32",  # the day of the stream (or decision) the event is about
    "true_label": "category",
    "believed": "category",
    "source": "category",
    "outcome": "category",
    "sanction": "category",
    "points": "float64",
    "standing": "float64",
    "until_day": "Int32",
    "views": "Int64",
    "reports": "Int64",
    "gmv": "float64",
    "earnings": "float64",
    "amount": "float64",
    "state": "category",
    "creator_type": "category",
    "actor": "Int64",
    "note": "string",
}

REVIEW_OUTCOMES = ("confirmed", "dismissed", "expired")
APPEAL_OUTCOMES = {3: "upheld", 4: "overturned"}
WEEK = 7


def creator_ids(model: LiveShopModel) -> np.ndarray:
    """The Mesa ``unique_id`` of each creator row (as creators.parquet and sanctions.parquet name them)."""
    ids = np.zeros(model.creators.n, dtype=np.int64)
    for a in model.agents:
        ids[a.row] = a.unique_id
    return ids


class NoEvents:
    """The log switched off: every hook does nothing (sweeps without ``--events``)."""

    enabled = False

    def streams(self, model: LiveShopModel, hour: np.ndarray, source: np.ndarray, believed: np.ndarray) -> None:
        """Nothing is recorded."""

    def flags(self, day: int, items: dict[str, np.ndarray], auto: np.ndarray, n_stream: int) -> None:
        """Nothing is recorded."""

    def reviewed(self, day: int, items: dict[str, np.ndarray], outcome: np.ndarray, hour: np.ndarray) -> None:
        """Nothing is recorded."""

    def end_of_day(self, model: LiveShopModel) -> None:
        """Nothing is recorded."""

    def add(self, kind: str, day: int, **columns: Any) -> None:
        """Nothing is recorded."""


class EventLog(NoEvents):
    """Collects the run's events day by day; :meth:`frame` turns them into the table."""

    enabled = True

    def __init__(self) -> None:
        self._parts: list[tuple[str, int, dict[str, Any]]] = []
        self._standing = np.zeros(0)  # ladder value at the end of each decision's day (log row order)
        self._week_start: dict[str, np.ndarray] = {}
        self._today: dict[str, Any] | None = None  # today's stream rows, completed by the flags

    # ---------------------------------------------------------------- hooks (called by the phases)

    def add(self, kind: str, day: int, **columns: Any) -> None:
        """Record rows of ``kind`` on ``day``: each column an array (one value per row) or a scalar.

        ``creator`` (creator rows) or ``creator_id`` name the creator; columns not in
        :data:`COLUMNS` become new nullable columns of the table (plug-ins' own details).
        """
        self._parts.append((kind, int(day), columns))

    def streams(self, model: LiveShopModel, hour: np.ndarray, source: np.ndarray, believed: np.ndarray) -> None:
        """Today's streams (``model.today``, once their views, orders and reports are in) that
        violated or were flagged; per stream, the hour it went live, ``source`` of its first flag
        (-1: not flagged) and ``believed``, the violation type the flag named. Their flags'
        outcomes follow in :meth:`flags`."""
        s = model.today
        keep = np.flatnonzero((s.tactic > 0) | (source >= 0))
        self._today = None
        if not keep.size:
            return
        cr = s.creator[keep]
        start = model.current_day.start["gmv"]
        gmv = model.creators.col("gmv")[cr] - np.where(cr < start.size, start[np.minimum(cr, start.size - 1)], 0.0)
        flagged = source[keep] >= 0
        self._today = {"creator": cr, "market_code": s.market[keep], "hour": hour[keep].round(2),
                       "true_code": s.tactic[keep], "believed_code": np.where(flagged, believed[keep], -1),
                       "source_code": source[keep], "views": s.views[keep], "reports": s.reports[keep],
                       "gmv": gmv.round(2) + 0.0, "outcome": np.where(flagged, "queued", None).astype(object)}
        self.add("stream", model.day, **self._today)

    def flags(self, day: int, items: dict[str, np.ndarray], auto: np.ndarray, n_stream: int) -> None:
        """Items flagged today, by any source: into the queue, or actioned at once (``auto``).

        The first ``n_stream`` items are flags on today's streams (one per flagged stream, in
        stream order): they complete the stream rows. Flags on accounts get rows of their own."""
        today = self._today
        if n_stream and today is not None:
            flagged = np.flatnonzero(today["source_code"] >= 0)
            today["outcome"][flagged] = np.where(auto[:n_stream], "auto", "queued")
        rest = np.arange(n_stream, items["creator"].size)
        if not rest.size:
            return
        self.add("flag", day, creator=items["creator"][rest], market_code=items["market"][rest],
                 hour=items["flag_hour"][rest].round(2), about_day=items["violation_day"][rest],
                 true_code=items["label"][rest], believed_code=items["reason"][rest],
                 source_code=items["source"][rest], outcome=np.where(auto[rest], "auto", "queued"))

    def reviewed(self, day: int, items: dict[str, np.ndarray], outcome: np.ndarray, hour: np.ndarray) -> None:
        """Queue items a reviewer decided today, or that expired (``outcome`` indexes
        :data:`REVIEW_OUTCOMES`; ``hour`` NaN for expired items)."""
        if not items["creator"].size:
            return
        self.add("review", day, creator=items["creator"], market_code=items["market"], hour=hour.round(2),
                 about_day=items["violation_day"], true_code=items["label"], believed_code=items["reason"],
                 source_code=items["source"], outcome=np.asarray(REVIEW_OUTCOMES, dtype=object)[outcome])

    def end_of_day(self, model: LiveShopModel) -> None:
        """Close the day: the standing after today's decisions, and every 7th (and the last) day
        each open account's week."""
        log = model.governance.enforcer.log
        c = model.creators
        seen = self._standing.size
        if log.n > seen:
            self._standing = np.concatenate([self._standing, c.col("ladder")[log.col("creator")[seen:log.n]]])
        day = model.day
        if day % WEEK and day < model.config.days:
            return
        n = c.n
        now = {k: c.col(k)[:n].astype(float) for k in ("views", "gmv", "earnings")}
        before = {k: np.zeros(n) for k in now}
        for k, v in self._week_start.items():
            before[k][: v.size] = v
        self._week_start = now
        since = day - ((day - 1) % WEEK)  # first day of this week
        left = c.col("left_day")[:n]
        open_ = (c.col("joined_day")[:n] <= day) & ((left < 0) | (left >= since))
        rows = np.flatnonzero(open_)
        state = c.col("state")[rows].astype(np.int64)
        names = np.array([s.name for s in CreatorState] + ["suspended"], dtype=object)
        suspended = c.col("suspended")[rows] & (state <= CreatorState.active)
        self.add("week", day, creator=rows, market_code=c.col("market")[rows],
                 views=(now["views"] - before["views"])[rows].round().astype(np.int64),
                 gmv=(now["gmv"] - before["gmv"])[rows].round() + 0.0,
                 earnings=(now["earnings"] - before["earnings"])[rows].round() + 0.0,
                 standing=c.col("ladder")[rows].round(2),
                 state=names[np.where(suspended, len(CreatorState), state)])

    # ---------------------------------------------------------------- the table

    def frame(self, model: LiveShopModel) -> pd.DataFrame:
        """The log as a table (see the module docstring), up to the model's current day."""
        from sim.platform.enforcement import SANCTION_NAMES
        from sim.platform.signals import source_names
        from sim.tactics import creator_type_names
        from sim.tactics import names as tactic_names

        ids = creator_ids(model)
        markets = list(model.market_names)
        tactics = list(tactic_names())
        sources = list(source_names())
        parts = _hook_parts(self._parts, ids, markets, tactics, sources)
        parts += _decision_parts(model, ids, self._standing, markets, tactics, sources, list(SANCTION_NAMES))
        parts += _account_parts(model, ids, markets, list(creator_type_names()))
        parts += _campaign_parts(model)
        frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if parts else pd.DataFrame()
        return _finish(frame, {"market": markets, "true_label": tactics, "believed": tactics, "source": sources,
                               "sanction": list(SANCTION_NAMES), "creator_type": list(creator_type_names())})


_CODES = {"market_code": "market", "true_code": "true_label", "believed_code": "believed", "source_code": "source"}


def _hook_parts(parts: list[tuple[str, int, dict[str, Any]]], ids: np.ndarray, markets: list[str],
                tactics: list[str], sources: list[str]) -> list[pd.DataFrame]:
    """The hooks' rows, one table per kind: each column's daily arrays joined once, codes turned into names."""
    names = {"market": markets, "true_label": tactics, "believed": tactics, "source": sources}
    by_kind: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for kind, day, cols in parts:
        by_kind.setdefault(kind, []).append((day, cols))
    out = []
    for kind, items in by_kind.items():
        sizes = [max((np.size(v) for v in cols.values() if np.ndim(v) > 0), default=1) for _, cols in items]
        keys = list(dict.fromkeys(k for _, cols in items for k in cols))
        data: dict[str, Any] = {"day": np.repeat([d for d, _ in items], sizes).astype(np.int32), "kind": kind}
        for key in keys:
            coded = key == "creator" or key in _CODES
            chunks = []
            for (_, cols), n in zip(items, sizes, strict=True):
                v = cols.get(key, -1 if coded else None)
                chunks.append(np.broadcast_to(np.asarray(v, dtype=np.int64 if coded else None), (n,)))
            joined = np.concatenate(chunks)
            if key == "creator":
                cid = pd.array(ids[np.maximum(joined, 0)] if ids.size else np.zeros(joined.size, np.int64),
                               dtype="Int64")
                cid[joined < 0] = pd.NA  # rows of a platform-level kind
                data["creator_id"] = cid
            elif coded:
                data[_CODES[key]] = pd.Categorical.from_codes(np.where(joined >= 0, joined, -1), names[_CODES[key]])
            else:
                data[key] = joined
        out.append(pd.DataFrame(data))
    return out


def _decision_parts(model: LiveShopModel, ids: np.ndarray, standing: np.ndarray, markets: list[str],
                    tactics: list[str], sources: list[str], sanctions: list[str]) -> list[pd.DataFrame]:
    """Decisions, appeals, lapsed points and forfeits, from the enforcer's decision log."""
    log = model.governance.enforcer.log
    n = log.n
    if n == 0:
        return []
    col = log.col
    cid = ids[col("creator")]
    market = pd.Categorical.from_codes(col("market").astype(np.int64), markets)
    today = model.day
    until = np.max(np.stack([col(f"set_{k}") for k in ("traffic", "campaign", "incentive", "suspended")]), axis=0)
    stand = np.full(n, np.nan)
    stand[: standing.size] = standing[:n]
    decisions = pd.DataFrame({
        "day": col("day"), "hour": col("decision_hour").round(2), "kind": "decision", "market": market, "creator_id": cid,
        "about_day": col("violation_day"),
        "true_label": pd.Categorical.from_codes(col("label").astype(np.int64), tactics),
        "believed": pd.Categorical.from_codes(col("reason").astype(np.int64), tactics),
        "source": pd.Categorical.from_codes(col("source").astype(np.int64), sources),
        "outcome": np.where(col("auto"), "auto", "reviewed"),
        "points": col("points"), "standing": stand.round(2),
        "sanction": pd.Categorical.from_codes(col("sanction").astype(np.int64), sanctions),
        "until_day": pd.Series(until).where(until >= col("day")).astype("Int32"),
        "amount": col("frozen").round(2),
    })
    appeal = col("appeal").astype(np.int64)
    filed = np.flatnonzero((appeal >= 2) & (col("appeal_day") <= today))
    decided = np.flatnonzero(appeal >= 3)
    lapsed = np.flatnonzero(col("expired") & (appeal != 4) & (col("expiry_day") >= 1) & (col("expiry_day") <= today))
    forfeit = np.flatnonzero(col("forfeited") & (col("resolve_day") >= 1))
    parts = [decisions]
    for kind, rows, day, extra in (
        ("appeal_filed", filed, col("appeal_day"), {}),
        ("appeal_decided", decided, col("appeal_decided_day"),
         {"outcome": np.where(appeal[decided] == 4, APPEAL_OUTCOMES[4], APPEAL_OUTCOMES[3])}),
        ("points_lapsed", lapsed, col("expiry_day"), {"points": col("points")[lapsed]}),
        ("commission_forfeited", forfeit, col("resolve_day"), {"amount": col("frozen")[forfeit].round(2)}),
    ):
        if rows.size:
            parts.append(pd.DataFrame({"day": day[rows], "kind": kind, "market": market[rows],
                                       "creator_id": cid[rows], "about_day": col("day")[rows], **extra}))
    return parts


def _account_parts(model: LiveShopModel, ids: np.ndarray, markets: list[str],
                   types: list[str]) -> list[pd.DataFrame]:
    """Accounts opened and closed, from the creator table."""
    c = model.creators
    n = c.n
    market = pd.Categorical.from_codes(c.col("market")[:n].astype(np.int64), markets)
    actor = c.col("actor")[:n].astype(np.int64)
    # An actor's second and later accounts are re-entries (a banned evader back under a new name).
    _, first = np.unique(actor, return_index=True)
    again = np.ones(n, dtype=bool)
    again[first] = False
    joined = pd.DataFrame({
        "day": c.col("joined_day")[:n], "kind": "joined", "market": market, "creator_id": ids,
        "creator_type": pd.Categorical.from_codes(c.col("ctype")[:n].astype(np.int64), types), "actor": actor,
        "note": pd.array(np.where(again, "re-entry", None), dtype="string"),
    })
    gone = np.flatnonzero(c.col("left_day")[:n] >= 0)
    state = np.array([s.name for s in CreatorState], dtype=object)
    left = pd.DataFrame({"day": c.col("left_day")[gone], "kind": "left", "market": market[gone],
                         "creator_id": ids[gone], "outcome": state[c.col("state")[gone].astype(np.int64)]})
    return [joined, left]


def _campaign_parts(model: LiveShopModel) -> list[pd.DataFrame]:
    """Campaigns as platform-level events, one row per campaign and market."""
    rows = [{"day": a, "kind": "campaign", "market": m, "until_day": b, "note": name}
            for name, a, b, ms in model.timeline.campaign_days() for m in ms]
    return [pd.DataFrame(rows)] if rows else []


def _finish(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """Every core column present with its dtype, extra columns after them, rows in event order."""
    for name in COLUMNS:
        if name not in frame.columns:
            frame[name] = pd.NA if len(frame) else pd.Series(dtype="object")
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[[*COLUMNS, *extra]].copy()
    for name, dtype in COLUMNS.items():
        if dtype == "category":
            values = frame[name].astype("object").where(frame[name].notna(), None)
            cats = categories.get(name) or (list(KINDS) if name == "kind" else None)
            if cats is None:
                cats = sorted({str(v) for v in values.dropna()})
            extra_cats = sorted({str(v) for v in values.dropna()} - set(cats))
            frame[name] = pd.Categorical(values, categories=[*cats, *extra_cats])
        elif dtype in ("Int32", "Int64"):
            frame[name] = pd.array(pd.to_numeric(frame[name], errors="coerce"), dtype=dtype)
        elif dtype == "string":
            frame[name] = frame[name].astype("string")
        else:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(dtype)
    phase = frame["kind"].cat.codes.to_numpy()
    order = np.lexsort((frame["creator_id"].fillna(-1).to_numpy(), frame["hour"].fillna(-1.0).to_numpy(), phase,
                        frame["day"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
