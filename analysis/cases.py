"""Creator case files: one creator's story, in order, from a run's event log (``events.parquet``).

A governance reviewer asks "why was this honest creator banned, and what did it cost them?". The
answer is the creator's rows of the event log: its streams (what it really did, what the
platform believed), the flags and their sources, what reviewers decided, each decision with its
points, standing and sanction, appeals and overturns, and its weekly traffic and earnings.

:func:`creator_index` summarises every creator of the log in one row (so creators can be found by
id, type, market or outcome), :func:`case_file` returns one creator's rows, and
:func:`format_case` prints them. Everything here reads result tables only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ScenarioError

__all__ = ["OUTCOMES", "case_file", "creator_index", "find_creators", "format_case", "load_events"]

# What a creator can be found by (each a column of creator_index, True or False).
OUTCOMES = ("sanctioned", "banned", "wrongly_sanctioned", "wrongly_banned", "appealed", "overturned")


def load_events(results: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """The event log of a run folder, or of one run of a sweep stored with ``--events``.

    A sweep with several runs needs ``run_id`` (ScenarioError lists them); a folder without an
    event log is a ScenarioError saying how to get one.
    """
    from analysis.load import load

    res = load(results)
    events = res.events
    if events.empty or "kind" not in events.columns:
        how = ("run it again without --no-events" if res.manifest.get("kind") == "run"
               else "run the sweep with --events")
        raise ScenarioError(str(results), None, None, f"holds no event log (events.parquet); {how}")
    runs = list(dict.fromkeys(events["run_id"].astype(str)))
    if run_id is None:
        if len(runs) > 1:
            shown = ", ".join(runs[:6]) + (", ..." if len(runs) > 6 else "")
            raise ScenarioError(str(results), "--run", None, f"holds {len(runs)} runs with events; choose one: {shown}")
        run_id = runs[0]
    if run_id not in runs:
        raise ScenarioError(str(results), "--run", run_id, f"no such run with events; runs: {', '.join(runs[:6])}")
    frame = events[events["run_id"].astype(str) == run_id].reset_index(drop=True)
    return _restore(frame)


def _restore(events: pd.DataFrame) -> pd.DataFrame:
    """Sweep shards store names as plain strings: give the id and day columns their nullable types back."""
    out = events.copy()
    for name, dtype in (("creator_id", "Int64"), ("about_day", "Int32"), ("until_day", "Int32")):
        if name in out.columns:
            out[name] = pd.array(pd.to_numeric(out[name], errors="coerce"), dtype=dtype)
    return out


def _text(col: pd.Series) -> pd.Series:
    return col.astype("object").where(col.notna(), None)


def creator_index(events: pd.DataFrame) -> pd.DataFrame:
    """One row per creator in the log: market, type, joined and left days, how it ended, counts
    of decisions (wrong ones: on a stream or account that did not violate), bans, appeals and
    overturns, and one True/False column per :data:`OUTCOMES`."""
    e = events[events["creator_id"].notna()]
    cid = e["creator_id"].astype(np.int64)
    kind = _text(e["kind"])
    joined = e[kind == "joined"]
    index = pd.DataFrame({
        "creator_id": joined["creator_id"].astype(np.int64).to_numpy(),
        "market": _text(joined["market"]).to_numpy(),
        "creator_type": _text(joined["creator_type"]).to_numpy(),
        "joined_day": joined["day"].to_numpy(),
    }).set_index("creator_id")
    left = e[kind == "left"]
    index["left_day"] = pd.Series(left["day"].to_numpy(), index=left["creator_id"].astype(np.int64)).reindex(
        index.index).astype("Int32")
    index["ended"] = pd.Series(_text(left["outcome"]).to_numpy(), index=left["creator_id"].astype(np.int64)).reindex(
        index.index)
    decision = kind == "decision"
    wrong = decision & (_text(e["true_label"]) == "none")
    ban = decision & (_text(e["sanction"]) == "ban")
    over = (kind == "appeal_decided") & (_text(e["outcome"]) == "overturned")

    def count(mask: pd.Series) -> pd.Series:
        return mask.groupby(cid).sum().reindex(index.index, fill_value=0).astype(np.int64)

    index["decisions"] = count(decision)
    index["wrong_decisions"] = count(wrong)
    index["bans"] = count(ban)
    index["wrongful_bans"] = count(ban & wrong)
    index["appeals"] = count(kind == "appeal_filed")
    index["overturns"] = count(over)
    index["sanctioned"] = index["decisions"] > 0
    index["banned"] = index["bans"] > 0
    index["wrongly_sanctioned"] = index["wrong_decisions"] > 0
    index["wrongly_banned"] = index["wrongful_bans"] > 0
    index["appealed"] = index["appeals"] > 0
    index["overturned"] = index["overturns"] > 0
    return index.reset_index()


def find_creators(events: pd.DataFrame, *, creator_id: int | None = None, creator_type: str | None = None,
                  market: str | None = None, outcome: str | None = None) -> pd.DataFrame:
    """The rows of :func:`creator_index` matching every filter given (``outcome`` one of :data:`OUTCOMES`)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ScenarioError("--outcome", None, outcome, f"one of {', '.join(OUTCOMES)}")
    index = creator_index(events)
    keep = np.ones(len(index), dtype=bool)
    if creator_id is not None:
        keep &= (index["creator_id"] == int(creator_id)).to_numpy()
    if creator_type is not None:
        keep &= (index["creator_type"] == creator_type).to_numpy()
    if market is not None:
        keep &= (index["market"] == market).to_numpy()
    if outcome is not None:
        keep &= index[outcome].to_numpy(dtype=bool)
    return index[keep].reset_index(drop=True)


def case_file(events: pd.DataFrame, creator_id: int, *, weeks: bool = True) -> pd.DataFrame:
    """One creator's events in the order they happened (the log's order), without the columns
    that are empty for all of them; ``weeks=False`` leaves out the weekly traffic and earnings rows."""
    cid = events["creator_id"]
    rows = events[(cid.notna()) & (cid.astype("Int64") == int(creator_id))]
    if not weeks:
        rows = rows[_text(rows["kind"]) != "week"]
    drop = [c for c in ("run_id", "variant", "point", "replication", "seed", "creator_id") if c in rows.columns]
    return rows.drop(columns=drop).dropna(axis=1, how="all").reset_index(drop=True)


def _hour(h: float) -> str:
    if h is None or pd.isna(h):
        return "     "
    minutes = round(float(h) * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _get(row: pd.Series, name: str) -> object:
    v = row.get(name)
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def describe(row: pd.Series) -> str:
    """One event as a line of plain English (what happened; the truth in brackets)."""
    kind = str(row["kind"])
    truth, believed, source = _get(row, "true_label"), _get(row, "believed"), _get(row, "source")
    outcome = _get(row, "outcome")
    about = _get(row, "about_day")
    if kind == "joined":
        note = " (re-entry of a banned actor)" if _get(row, "note") == "re-entry" else ""
        return f"account opened in {row['market']}: {_get(row, 'creator_type')}{note}"
    if kind == "stream":
        seen = (f"flagged by {source} as {believed}" + (", auto-actioned" if outcome == "auto" else ", queued")
                if source else "not flagged")
        return (f"stream [truly {truth}]: {seen}; {int(_get(row, 'views') or 0)} views, "
                f"{int(_get(row, 'reports') or 0)} reports, GMV {float(_get(row, 'gmv') or 0):.2f}")
    if kind == "flag":
        return f"account flagged by {source} as {believed} [truly {truth}], about day {about}: {outcome}"
    if kind == "review":
        return f"review of day {about}'s {source} flag ({believed}) [truly {truth}]: {outcome}"
    if kind == "decision":
        until = _get(row, "until_day")
        amount = float(_get(row, "amount") or 0.0)
        return (f"DECISION ({outcome}) on day {about}: {believed} [truly {truth}], {float(row['points']):g} points, "
                f"standing {float(row['standing']):g}, sanction {row['sanction']}"
                + (f" until day {until}" if until is not None else "")
                + (f", commission held {amount:.2f}" if amount > 0 else ""))
    if kind == "appeal_filed":
        return f"appeal filed against day {about}'s decision"
    if kind == "appeal_decided":
        return f"APPEAL against day {about}'s decision: {outcome}"
    if kind == "points_lapsed":
        return f"points of day {about}'s decision lapsed ({float(row['points']):g})"
    if kind == "commission_forfeited":
        return f"commission held on day {about} forfeited ({float(row['amount']):.2f})"
    if kind == "left":
        return f"account closed: {outcome}"
    if kind == "week":
        return (f"week: {int(_get(row, 'views') or 0)} views, GMV {float(_get(row, 'gmv') or 0):.0f}, "
                f"earnings {float(_get(row, 'earnings') or 0):.0f}, standing {float(row['standing']):g}, "
                f"{_get(row, 'state')}")
    details = ", ".join(f"{k}={v}" for k, v in row.items()
                        if k not in ("day", "hour", "kind", "market") and _get(row, k) is not None)
    return f"{kind}: {details}"


def format_case(events: pd.DataFrame, creator_id: int, *, weeks: bool = False) -> str:
    """A creator's case file as text: a header line (type, market, how it ended) and one line per event."""
    found = find_creators(events, creator_id=creator_id)
    if found.empty:
        raise ScenarioError("--creator", None, creator_id, "a creator id in this run's event log")
    who = found.iloc[0]
    ended = f"{who['ended']} on day {who['left_day']}" if pd.notna(who["ended"]) else "open at the end of the run"
    head = (f"creator {creator_id}: {who['creator_type']} in {who['market']}, joined day {who['joined_day']}, "
            f"{ended}; {who['decisions']} decisions ({who['wrong_decisions']} wrong), {who['bans']} bans "
            f"({who['wrongful_bans']} wrongful), {who['appeals']} appeals ({who['overturns']} overturned)")
    case = case_file(events, creator_id, weeks=weeks)
    lines = [head, "-" * min(len(head), 100)]
    for _, row in case.iterrows():  # one creator's few dozen events
        lines.append(f"day {int(row['day']):>4} {_hour(_get(row, 'hour'))}  {describe(row)}")
    return "\n".join(lines)
