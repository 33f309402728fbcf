"""The livesim dashboard (Solara): a live run, a results explorer and creator case files.

Started by ``livesim dashboard [SCENARIO | RESULTS]`` (``livesim_dashboard.serve``), which
passes what to open in ``LIVESIM_DASHBOARD_SOURCE``: a scenario (file or bundled name) opens
the live run; a run or sweep folder opens the results explorer and its cases, and its
resolved scenario is the live run's. A results folder is only ever read.

The page is built from Solara components, as Mesa's SolaraViz is; the live controls follow
SolaraViz's (Step, play/pause, Reset), but levers act on the running model from the next day
rather than only at reset, and plots are per market with campaign days shaded.
"""

from __future__ import annotations

import html
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
import solara
import solara.lab
from livesim_dashboard.live import LIVE_METRICS, LiveRun, market_series

SOURCE_ENV = "LIVESIM_DASHBOARD_SOURCE"
PLAY_INTERVAL_S = 0.3


def _source() -> str:
    return os.environ.get(SOURCE_ENV, "baseline")


def _results_folder(source: str) -> Path | None:
    """The source as a results folder (a run's or a sweep's), or None when it is a scenario."""
    p = Path(source)
    if p.is_dir() and ((p / "summary.json").is_file() or (p / "manifest.json").is_file()):
        return p
    return None


def _scenario_of(source: str) -> Any:
    """The scenario the live run starts from: the source itself, or a results folder's resolved one."""
    from sim.config import load_scenario, scenario_from_dict

    folder = _results_folder(source)
    if folder is None:
        return load_scenario(source)
    if (folder / "scenario.toml").is_file():
        return load_scenario(folder / "scenario.toml")
    from analysis.load import read_manifest

    base = read_manifest(folder)["config"]["base_scenario"]
    return scenario_from_dict(base, source=str(folder / "manifest.json"))


def _table_html(frame: pd.DataFrame, css: str) -> str:
    """A plain HTML table (cells carry data-row/data-col so tests and users can find a value)."""
    head = "".join(f'<th style="padding:2px 10px">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for idx, row in frame.iterrows():
        cells = "".join(f'<td style="padding:2px 10px;text-align:right" data-row="{html.escape(str(idx))}" '
                        f'data-col="{html.escape(str(c))}">'
                        f"{html.escape(_fmt(v))}</td>" for c, v in row.items())
        body.append(f"<tr><th>{html.escape(str(idx))}</th>{cells}</tr>")
    return (f'<table class="{css}" style="border-collapse:collapse;font-size:13px">'
            f"<tr><th></th>{head}</tr>{''.join(body)}</table>")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if pd.isna(v) else f"{v:,.4g}"
    return str(v)


# ----------------------------------------------------------------------------------- live run


@solara.component
def LeverControl(lever: Any, value: Any, on_change: Any) -> None:
    if lever.choices:
        solara.Select(label=lever.label, value=value, values=list(lever.choices),
                      on_value=lambda v: on_change(lever.path, v))
    elif isinstance(lever.value, int):
        solara.SliderInt(label=f"{lever.label}: {int(value)}", value=int(value), min=int(lever.low), max=int(lever.high),
                         step=int(lever.step), on_value=lambda v: on_change(lever.path, int(v)), thumb_label=True)
    else:
        solara.SliderFloat(label=f"{lever.label}: {float(value):g}", value=float(value), min=lever.low, max=lever.high, step=lever.step,
                           on_value=lambda v: on_change(lever.path, float(v)), thumb_label=True)


@solara.component
def LiveView(source: str) -> None:
    run = solara.use_memo(lambda: LiveRun(_scenario_of(source)), [source])
    tick, set_tick = solara.use_state(0)
    playing, set_playing = solara.use_state(False)
    error, set_error = solara.use_state("")
    chosen, set_chosen = solara.use_state(["gmv", "prevalence", "flags", "queue_backlog"])
    seed_text, set_seed_text = solara.use_state(str(run.seed))

    def refresh() -> None:
        set_tick(lambda t: t + 1)

    def step() -> None:
        run.step(1)
        refresh()

    def reset(seed: int | None = None) -> None:
        set_playing(False)
        run.reset(seed)
        set_seed_text(str(run.seed))
        refresh()

    def reset_clicked() -> None:
        try:
            reset(int(seed_text))
        except ValueError:
            set_error(f"seed: {seed_text!r} is not a whole number")

    def change(path: str, value: Any) -> None:
        from sim.errors import ScenarioError

        try:
            run.set_lever(path, value)
            set_error("")
        except ScenarioError as exc:
            set_error(exc.message)
        refresh()

    def play_loop() -> None:
        while playing and run.running:
            time.sleep(PLAY_INTERVAL_S)
            run.step(1)
            refresh()
        if not run.running:
            set_playing(False)

    solara.use_thread(play_loop, dependencies=[playing])

    with solara.Columns([1, 3]):
        with solara.Card("Controls"):
            solara.HTML(tag="div", unsafe_innerHTML=f'<b>{html.escape(run.base.name)}</b>: day '
                        f'<b class="live-day">{run.day}</b> of {run.days}, seed {run.seed}', classes=["live-status"])
            with solara.Row():
                solara.Button("Step", on_click=step, disabled=playing or not run.running, color="primary")
                solara.Button("Pause" if playing else "Play", on_click=lambda: set_playing(not playing),
                              disabled=not run.running, color="primary")
                solara.Button("Reset", on_click=reset_clicked)
                solara.Button("New seed", on_click=lambda: reset(run.seed + 1))
            solara.InputText("Seed", value=seed_text, on_value=set_seed_text, continuous_update=True)
            for lever in run.levers:
                LeverControl(lever, run.value(lever.path), change)
            if run.pending:
                solara.Info("A lever waits for the next Reset.")
            if error:
                solara.Error(error)
        with solara.Column():
            solara.SelectMultiple("Metrics", values=chosen, all_values=list(LIVE_METRICS), on_value=set_chosen)
            daily = run.daily()
            markets = list(run.model.market_names)
            if not daily.empty:
                last = daily[daily["day"] == daily["day"].max()].set_index("market")
                table = last.loc[["all", *markets], list(chosen)] if chosen else last.iloc[:, :0]
                # the day in the class: the browser may show the new day before the new table arrives
                solara.HTML(tag="div", unsafe_innerHTML=_table_html(table, f"latest-values day-{run.day}"))
            else:
                solara.Text("Day 0: press Step or Play.")
            with solara.ColumnsResponsive(12, large=6):
                for metric in chosen:
                    fig = market_series(daily, metric, markets, run.campaigns(), run.days)
                    solara.FigureMatplotlib(fig, dependencies=[tick, metric, run.day, run.seed])
    return None


# ----------------------------------------------------------------------------------- results


def _load(path: str) -> tuple[Any, str]:
    """A results folder read (never written) with analysis.load, or the one-line reason it cannot be."""
    from analysis.load import load

    if not path:
        return None, ""
    try:
        return load(path), ""
    except Exception as exc:  # a folder that cannot be read: say so in the page
        return None, str(exc)


@solara.component
def ResultsView(source: str) -> None:
    folder0 = _results_folder(source)
    path, set_path = solara.use_state(str(folder0) if folder0 else "")
    res, error = solara.use_memo(lambda: _load(path), [path])
    picked, set_variants = solara.use_state(None)
    market, set_market = solara.use_state("all")
    metrics, set_metrics = solara.use_state(["gmv", "prevalence", "buyer_harm"])
    chosen_baseline, set_baseline = solara.use_state(None)
    solara.InputText("Results folder (a run or a sweep; read only)", value=path, on_value=set_path,
                     continuous_update=False)
    if error:
        solara.Error(error)
        return
    if res is None:
        solara.Text("Start the dashboard with a results folder, or type one here.")
        return
    variants_all = sorted(res.summary["variant"].astype(str).unique())
    variants = [v for v in (picked or variants_all) if v in variants_all] or variants_all
    baseline = chosen_baseline if chosen_baseline in variants_all else variants_all[0]
    markets_all = ["all", *sorted(m for m in res.summary["market"].astype(str).unique() if m != "all")]
    solara.Text(f"{res.manifest.get('name')} ({res.manifest.get('kind')}): {len(res.runs)} runs, "
                f"variants {', '.join(variants_all)}")
    with solara.Row():
        solara.SelectMultiple("Variants", values=variants, all_values=variants_all, on_value=set_variants)
        solara.Select("Market", value=market if market in markets_all else "all", values=markets_all,
                      on_value=set_market)
        solara.SelectMultiple("Metrics", values=metrics, all_values=list(LIVE_METRICS), on_value=set_metrics)
    from analysis.plots import variant_series

    daily = res.daily[res.daily["variant"].astype(str).isin(variants)]
    campaigns = _campaigns(res)
    with solara.ColumnsResponsive(12, large=6):
        for metric in metrics:
            if metric in daily.columns and not daily.empty:
                fig = variant_series(daily, metric, market=market, campaigns=campaigns, title=f"{metric} ({market})")
                solara.FigureMatplotlib(fig, dependencies=[path, metric, market, tuple(variants)])
    if len(variants_all) > 1:
        from analysis.stats import paired_differences

        solara.Select("Baseline for paired comparisons", value=baseline, values=variants_all,
                      on_value=set_baseline)
        summary = res.summary[res.summary["variant"].astype(str).isin(variants)]
        diffs = paired_differences(summary, [m for m in metrics if m in summary.columns], baseline=baseline,
                                   market=market)
        keep = [c for c in ("variant", "point", "metric", "n", "baseline_mean", "variant_mean", "diff", "ci_low",
                            "ci_high", "p_holm", "significant") if c in diffs.columns]
        solara.Text("Paired differences to the baseline (same worlds; 95 % intervals)")
        solara.HTML(tag="div", unsafe_innerHTML=_table_html(diffs[keep].reset_index(drop=True), "paired"))


def _campaigns(res: Any) -> list[dict[str, Any]]:
    base = (res.manifest.get("config") or {}).get("base_scenario") or {}
    return [e for e in base.get("timeline", []) if isinstance(e, dict) and e.get("kind") == "campaign"]


# ----------------------------------------------------------------------------------- cases


def _events(folder: Path | None, run_id: str) -> tuple[pd.DataFrame | None, str]:
    from analysis.cases import load_events

    if folder is None:
        return None, ("Cases read a run's event log: start the dashboard with a run folder (livesim run --out) "
                      "or a sweep stored with --events.")
    try:
        return load_events(folder, run_id or None), ""
    except Exception as exc:
        return None, str(exc)


@solara.component
def CasesView(source: str) -> None:
    from analysis.cases import OUTCOMES, find_creators, format_case

    folder = _results_folder(source)
    run_id, set_run_id = solara.use_state("")
    outcome, set_outcome = solara.use_state("wrongly_banned")
    ctype, set_ctype = solara.use_state("any")
    market, set_market = solara.use_state("any")
    creator, set_creator = solara.use_state("")
    events, error = solara.use_memo(lambda: _events(folder, run_id), [str(folder), run_id])
    if error or events is None:
        solara.Error(error)
        if folder is not None:
            solara.InputText("Run id (sweeps)", value=run_id, on_value=set_run_id, continuous_update=False)
        return
    index = find_creators(events)
    with solara.Row():
        solara.Select("Outcome", value=outcome, values=["any", *OUTCOMES], on_value=set_outcome)
        solara.Select("Type", value=ctype, values=["any", *sorted(index["creator_type"].dropna().unique())],
                      on_value=set_ctype)
        solara.Select("Market", value=market, values=["any", *sorted(index["market"].dropna().unique())],
                      on_value=set_market)
        solara.InputText("Creator id", value=creator, on_value=set_creator, continuous_update=False)
    found = find_creators(events, creator_type=None if ctype == "any" else ctype,
                          market=None if market == "any" else market, outcome=None if outcome == "any" else outcome)
    cols = ["creator_id", "market", "creator_type", "ended", "decisions", "wrong_decisions", "bans", "appeals",
            "overturns"]
    solara.Text(f"{len(found)} creators match")
    solara.HTML(tag="div", unsafe_innerHTML=_table_html(found[cols].head(50).set_index("creator_id"), "creators"))
    if not creator.strip():
        return
    try:
        text = format_case(events, int(creator))
    except Exception as exc:
        solara.Error(str(exc))
        return
    solara.HTML(tag="pre", unsafe_innerHTML=html.escape(text), classes=["case-file"],
                style={"font-size": "12px", "white-space": "pre-wrap"})
    weeks = events[(events["kind"].astype(str) == "week") & (events["creator_id"] == int(creator))]
    if not weeks.empty:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 2.4), dpi=90, layout="constrained")
        ax = fig.add_subplot()
        ax.plot(weeks["day"], weeks["views"].astype(float))
        ax2 = ax.twinx()
        ax2.plot(weeks["day"], weeks["earnings"].astype(float), color="tab:orange")
        ax.set_xlabel("day")
        ax.set_title(f"creator {creator}: views (blue) and earnings (orange) per week", fontsize=10)
        solara.FigureMatplotlib(fig, dependencies=[creator, str(folder), run_id])


# ----------------------------------------------------------------------------------- alerts


def _monitoring(folder: Path | None) -> tuple[Any, str]:
    """A run folder's alerts, trends, controller actions and days (read only), or why there are none."""
    if folder is None or not (folder / "alerts.parquet").exists():
        return None, ("Alerts need a run folder of a scenario with [[signals]] (livesim run SCENARIO --out DIR, "
                      "e.g. the bundled emerging_trend): it writes alerts.parquet.")
    try:
        from analysis.signals import load_run

        alerts, trends, days = load_run(folder)
        actions = None
        if (folder / "events.parquet").exists():
            events = pd.read_parquet(folder / "events.parquet")
            actions = events[events["kind"].astype(str) == "controller"].dropna(axis=1, how="all")
        return (alerts, trends, actions, days), ""
    except Exception as exc:  # a folder that cannot be read: say so in the page
        return None, str(exc)


@solara.component
def AlertsView(source: str) -> None:
    folder = _results_folder(source)
    loaded, error = solara.use_memo(lambda: _monitoring(folder), [str(folder)])
    chosen, set_signal = solara.use_state("")
    if loaded is None:
        solara.Info(error)
        return
    alerts, trends, actions, days = loaded
    names = [str(s) for s in dict.fromkeys(alerts["signal"].astype(str))]
    if not names:
        solara.Info("This run's signals recorded no days.")
        return
    signal = chosen if chosen in names else names[0]
    solara.Select("Signal", value=signal, values=names, on_value=set_signal)
    from analysis.plots import signal_timeline

    fig = signal_timeline(alerts, signal, trends=trends, actions=actions)
    solara.FigureMatplotlib(fig, dependencies=[str(folder), signal])
    if len(trends):
        from analysis.signals import evaluate

        table = evaluate(alerts, trends, days)
        solara.Text("How each signal did against the run's abuse trends (scored after the run, on ground truth)")
        solara.HTML(tag="div", unsafe_innerHTML=_table_html(table, "signal-evaluation"))
    if actions is not None and len(actions):
        keep = [c for c in ("day", "market", "controller", "change", "reason") if c in actions.columns]
        solara.Text(f"{len(actions)} controller actions")
        solara.HTML(tag="div", unsafe_innerHTML=_table_html(actions[keep].reset_index(drop=True), "controller-actions"))


# ----------------------------------------------------------------------------------- page

@solara.component
def Page() -> None:
    source = _source()
    is_results = _results_folder(source) is not None
    tab, set_tab = solara.use_state(1 if is_results else 0)
    solara.Title("livesim dashboard")
    with solara.AppBar():
        solara.AppBarTitle(f"livesim: {Path(source).name if is_results else source}")
    with solara.lab.Tabs(value=tab, on_value=set_tab):
        with solara.lab.Tab("Live run"):
            if tab == 0:
                LiveView(source)
        with solara.lab.Tab("Results"):
            if tab == 1:
                ResultsView(source)
        with solara.lab.Tab("Cases"):
            if tab == 2:
                CasesView(source)
        with solara.lab.Tab("Alerts"):
            if tab == 3:
                AlertsView(source)
