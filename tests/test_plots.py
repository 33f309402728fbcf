"""Plots of sweep results: each renders from a stored sweep, and what it draws matches the data."""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Iterator

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from analysis.load import Results, load
from analysis.plots import (
    FUNNEL_FALSE,
    FUNNEL_STAGES,
    FUNNEL_TRUE,
    enforcement_funnel,
    flat_series_note,
    grid_heatmap,
    is_flat,
    lorenz,
    paired_tradeoff,
    pareto_front,
    tradeoff,
    variant_series,
)
from analysis.text import BIDI_CONTROLS
from sim.metrics import gini

X, Y = "policy.detection.threshold", "policy.review.capacity_per_day"


@pytest.fixture(scope="module")
def results(sweep_results) -> Results:
    """The stored fixture sweep, loaded once for this module: its 2 x 2 grid (the reference point the
    sweep adds, the base's own lever values, left out, as the report's heatmaps leave it out)."""
    res = load(sweep_results)
    grid = set(range(4))
    for kind in ("summary", "daily", "sanctions", "creators"):
        frame = getattr(res, kind)
        if "point" in frame.columns:
            setattr(res, kind, frame[frame["point"].isin(grid)].reset_index(drop=True))
    return res


OLD_FUNNEL = ["true_flags", "false_flags", "false_actions"]  # results made before these metrics lack them


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every figure a test made, so figures do not pile up across tests."""
    yield
    plt.close("all")


def campaigns(res: Results) -> list[dict]:
    return [e for e in res.manifest["config"]["base_scenario"]["timeline"] if e["kind"] == "campaign"]


def points_frame(res: Results) -> pd.DataFrame:
    """One row per (variant, point) with prevalence and GMV means and rough intervals."""
    s = res.summary[res.summary["market"] == "all"]
    g = s.groupby(["variant", "point"])
    pts = g[["prevalence", "gmv"]].mean()
    for m in ("prevalence", "gmv"):
        sem = g[m].sem()
        pts[f"{m}_ci_low"], pts[f"{m}_ci_high"] = pts[m] - 2 * sem, pts[m] + 2 * sem
    pts = pts.reset_index()
    pts["label"] = pts["variant"] + " p" + pts["point"].astype(str)
    return pts


def with_flag_split(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with true_flags, false_flags and false_actions columns that add up as the model's do.

    The split is made up (35 % of flags true; wrong decisions from the precision) but consistent:
    true + false flags == flags and false_actions <= actions in every row.
    """
    s = summary.copy()
    s["true_flags"] = (s["flags"] * 0.35).round()
    s["false_flags"] = s["flags"] - s["true_flags"]
    s["false_actions"] = (s["actions"] * (1 - s["enforcement_precision"].fillna(1.0))).round()
    return s


def policy_daily(res: Results) -> pd.DataFrame:
    """The daily table with a ``policy`` column naming a variant at a grid point, as the report builds it."""
    d = res.daily.copy()
    d["policy"] = d["variant"] + " p" + d["point"].astype(str)
    return d


# Paired differences to a reference, by hand (prevalence: lower is better; gmv: higher is better).
# A dominates the reference, B has the lowest prevalence, C the highest GMV, D is dominated by the
# reference: the front among policies and reference is A, B, C.
DIFFS = pd.DataFrame({
    "policy": ["A", "B", "C", "D"],
    "prevalence_diff": [-0.010, -0.022, 0.010, 0.005],
    "prevalence_ci_low": [-0.015, -0.030, 0.002, -0.001],
    "prevalence_ci_high": [-0.004, -0.013, 0.019, 0.012],
    "gmv_diff": [1_200.0, -500.0, 2_500.0, -100.0],
    "gmv_ci_low": [300.0, -1_400.0, 900.0, -700.0],
    "gmv_ci_high": [2_000.0, 350.0, 4_100.0, 450.0],
})


def tick_texts(axis) -> list[str]:
    """The tick labels of a drawn axis that are shown (inside the view)."""
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t, loc in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True)
            if lo <= loc <= hi and t.get_text()]


def png_width(data: bytes) -> int:
    """Width in pixels of a PNG, from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


BUILDERS: dict[str, Callable[[Results], Figure]] = {
    "variant_series": lambda r: variant_series(r.daily, "prevalence", campaigns=campaigns(r)),
    "tradeoff": lambda r: tradeoff(points_frame(r), "prevalence", "gmv", label="label"),
    "grid_heatmap": lambda r: grid_heatmap(r.summary, "prevalence", X, Y),
    "lorenz": lambda r: lorenz(r.creators),
    "enforcement_funnel": lambda r: enforcement_funnel(r.summary),
    "enforcement_funnel_two_branches": lambda r: enforcement_funnel(with_flag_split(r.summary)),
    "paired_tradeoff": lambda r: paired_tradeoff(DIFFS, "prevalence", "gmv"),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_renders_to_png(results: Results, name: str) -> None:
    """Every plot returns a Figure with axes that saves as a PNG."""
    fig = BUILDERS[name](results)
    assert isinstance(fig, Figure)
    assert fig.axes
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- pareto_front

HAND = pd.DataFrame({
    "x": [1.0, 2.0, 2.0, 0.0, 2.0, np.nan],
    "y": [1.0, 2.0, 1.0, 0.0, 1.0, 0.0],
})  # rows: A, B, C, D, E (= C), F (missing x)


def test_pareto_front_higher_x_lower_y() -> None:
    """With x higher-better and y lower-better, C dominates A and B, D survives, ties both stay, NaN is off."""
    mask = pareto_front(HAND, "x", "y", x_better=True, y_better=False)
    assert mask.dtype == bool
    assert mask.tolist() == [False, False, True, True, True, False]


def test_pareto_front_directions_flip() -> None:
    """Reversing both directions gives the exact opposite corner's front: A, B and D."""
    mask = pareto_front(HAND, "x", "y", x_better=False, y_better=True)
    assert mask.tolist() == [True, True, False, True, False, False]


def test_pareto_front_both_higher() -> None:
    """With both higher-better only B (2, 2) is non-dominated."""
    assert pareto_front(HAND, "x", "y", True, True).tolist() == [False, True, False, False, False, False]


def test_pareto_front_trivial_frames() -> None:
    """An empty frame gives an empty mask and a single row is its own front."""
    assert pareto_front(HAND.iloc[:0], "x", "y", True, True).size == 0
    assert pareto_front(HAND.iloc[:1], "x", "y", True, False).tolist() == [True]


# ---------------------------------------------------------------- tradeoff

def test_tradeoff_marks_front_and_labels_every_point(results: Results) -> None:
    """The front markers are exactly the pareto_front rows, directions come from METRICS, and every label is shown."""
    pts = points_frame(results)
    fig = tradeoff(pts, "prevalence", "gmv", label="label")
    ax = fig.axes[0]
    expected = pareto_front(pts, "prevalence", "gmv", x_better=False, y_better=True)
    front = [c for c in ax.collections if c.get_label() == "Pareto front"]
    assert len(front) == 1
    assert len(front[0].get_offsets()) == expected.sum() >= 1
    assert "lower is better" in ax.get_xlabel() and "higher is better" in ax.get_ylabel()
    shown = " ".join(t.get_text() for t in ax.texts)
    assert all(lbl in shown for lbl in pts["label"])


def test_tradeoff_missing_column_is_named() -> None:
    """A missing column raises ValueError naming it."""
    with pytest.raises(ValueError, match="'nope'"):
        tradeoff(HAND.assign(variant="a"), "x", "nope")


# ---------------------------------------------------------------- grid_heatmap

def test_grid_heatmap_cells_are_replication_means(results: Results) -> None:
    """One variant gives one 2x2 image whose cells are the means over replications, each annotated."""
    fig = grid_heatmap(results.summary, "gmv", X, Y, variant="strict")
    images = [im for ax in fig.axes for im in ax.get_images() if isinstance(im, AxesImage)]
    assert len(images) == 1
    arr = np.asarray(images[0].get_array())
    assert arr.shape == (2, 2)
    s = results.summary
    s = s[(s["market"] == "all") & (s["variant"] == "strict")]
    want = s.groupby([Y, X])["gmv"].mean().unstack(X).sort_index().sort_index(axis=1).to_numpy()
    np.testing.assert_allclose(arr, want)
    assert len(images[0].axes.texts) == 4


def test_grid_heatmap_one_panel_per_variant(results: Results) -> None:
    """Without a variant, each variant gets its own 2x2 panel (8 annotated cells in all)."""
    fig = grid_heatmap(results.summary, "prevalence", X, Y)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert [np.asarray(im.get_array()).size for im in images] == [4, 4]
    assert sum(len(im.axes.texts) for im in images) == 8


def test_grid_heatmap_unknown_column_is_named(results: Results) -> None:
    """A grid column not in the frame raises ValueError naming it."""
    with pytest.raises(ValueError, match=r"'policy\.nope'"):
        grid_heatmap(results.summary, "gmv", X, "policy.nope")


# ---------------------------------------------------------------- lorenz

def test_lorenz_gini_in_legend_matches_pooled_values(results: Results) -> None:
    """Each group's legend entry shows sim.metrics.gini of its pooled creator values, and curves run (0,0) to (1,1)."""
    fig = lorenz(results.creators, value="gmv", by="variant")
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    for variant, g in results.creators.groupby("variant"):
        entry = next(t for t in legend if t.startswith(f"{variant} "))
        assert f"Gini {gini(g['gmv'].to_numpy()):.3f}" in entry
    for line in ax.lines[1:]:
        x, y = line.get_xdata(), line.get_ydata()
        assert (x[0], y[0]) == (0.0, 0.0)
        assert x[-1] == pytest.approx(1.0) and y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(y) >= 0)


# ---------------------------------------------------------------- enforcement_funnel

def test_funnel_bars_are_stage_means_and_narrow_from_flags(results: Results) -> None:
    """Bars are per-run means; from flags on each stage is a subset of the one before, so bars never widen."""
    summary = results.summary.drop(columns=OLD_FUNNEL)
    fig = enforcement_funnel(summary)
    s = summary[summary["market"] == "all"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["baseline", "strict"]
    for ax in fig.axes:
        widths = np.array([p.get_width() for p in ax.patches])
        want = s[s["variant"] == ax.get_title()][list(FUNNEL_STAGES)].mean().to_numpy()
        np.testing.assert_allclose(widths, want)
        assert np.all(np.diff(widths[1:]) <= 0)  # flags >= reviews >= actions >= appeals >= overturns
        assert widths[-1] > 0  # the fixture has overturns, so the check above is not vacuous


def test_funnel_subset_and_unknown_variant(results: Results) -> None:
    """Chosen variants give one panel each; an unknown variant raises ValueError naming it."""
    assert [ax.get_title() for ax in enforcement_funnel(results.summary, variants=["strict"]).axes] == ["strict"]
    with pytest.raises(ValueError, match="lenient"):
        enforcement_funnel(results.summary, variants=["lenient"])


# ---------------------------------------------------------------- variant_series

def test_variant_series_band_contains_mean(results: Results) -> None:
    """Each variant's line is the mean over runs, lies inside its 95 % band, and the band has width."""
    fig = variant_series(results.daily, "gmv", campaigns=campaigns(results))
    ax = fig.axes[0]
    d = results.daily[results.daily["market"] == "all"]
    assert [ln.get_label() for ln in ax.lines] == ["baseline", "strict"]
    bands = [c for c in ax.collections if len(c.get_paths())]
    assert len(bands) == 2
    for line, band in zip(ax.lines, bands, strict=True):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        # Balanced design: mean over replications of means over points = plain mean per day.
        want = d[d["variant"] == line.get_label()].groupby("day")["gmv"].mean()
        np.testing.assert_allclose(y, want.loc[x].to_numpy())
        verts = band.get_paths()[0].vertices
        widths = []
        for xi, yi in zip(x, y, strict=True):
            at = verts[np.isclose(verts[:, 0], xi), 1]
            assert at.min() - 1e-9 <= yi <= at.max() + 1e-9
            widths.append(at.max() - at.min())
        assert max(widths) > 0
    assert "mean over 4 grid points" in fig.texts[0].get_text()


def test_variant_series_shades_campaign_days(results: Results) -> None:
    """The fixture's campaign (start day 8, 3 days) is shaded over days 8-10."""
    fig = variant_series(results.daily, "prevalence", point=0, campaigns=campaigns(results))
    ax = fig.axes[0]
    spans = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(p.get_x(), p.get_x() + p.get_width()) for p in spans] == [(7.5, 10.5)]
    assert "point 0" in fig.texts[0].get_text()


def test_variant_series_campaigns_are_clearly_marked(results: Results) -> None:
    """The campaign span is hatched, edged and at least 20 % opaque, named "sale" at its top, and in the legend."""
    fig = variant_series(results.daily, "gmv", campaigns=campaigns(results))
    ax = fig.axes[0]
    (span,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert span.get_facecolor()[3] >= 0.2
    assert span.get_hatch() and span.get_linewidth() > 0
    (name,) = [t for t in ax.texts if t.get_text() == "sale"]
    x, y = name.get_position()
    assert 7.5 <= x <= 10.5 and 0.9 <= y <= 1.0  # over the span, at the top, inside the axes (axes fraction)
    assert "campaign" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_variant_series_groups_by_a_policy_column(results: Results) -> None:
    """With group="policy" there is one line per policy, each the mean over that policy's runs, titled "policy"."""
    d = policy_daily(results)
    fig = variant_series(d, "gmv", group="policy")
    ax = fig.axes[0]
    d = d[d["market"] == "all"]
    assert sorted(ln.get_label() for ln in ax.lines) == sorted(d["policy"].unique())
    assert len(ax.lines) == 8
    for line in ax.lines:
        want = d[d["policy"] == line.get_label()].groupby("day")["gmv"].mean()
        np.testing.assert_allclose(line.get_ydata(), want.loc[line.get_xdata()].to_numpy())
    assert ax.get_legend().get_title().get_text() == "policy"
    assert "grid points" not in fig.texts[0].get_text()  # one point per policy: nothing averaged over points


def test_variant_series_refuses_unknown_group_and_flat_metric(results: Results) -> None:
    """A group column not in the frame and a metric constant in the market both raise ValueError naming them."""
    with pytest.raises(ValueError, match="'policy'"):
        variant_series(results.daily, "gmv", group="policy")
    assert is_flat(results.daily.loc[results.daily["market"] == "all", "queue_backlog"])  # the fixture's flat metric
    with pytest.raises(ValueError, match="queue_backlog is constant"):
        variant_series(results.daily, "queue_backlog")


def small_range_daily(low: float, high: float) -> pd.DataFrame:
    """Two variants, three identical replications, 20 days: 'a' rises from low to high, 'b' stays at the midpoint."""
    days = np.arange(1, 21)
    rows = []
    for rep in range(3):
        rows.append(pd.DataFrame({"day": days, "variant": "a", "replication": rep,
                                  "buyer_trust": np.linspace(low, high, days.size)}))
        rows.append(pd.DataFrame({"day": days, "variant": "b", "replication": rep,
                                  "buyer_trust": (low + high) / 2}))
    return pd.concat(rows, ignore_index=True)


def test_variant_series_notes_a_small_y_range() -> None:
    """Values from 0.749 to 0.757 (a 1.1 % range of their mean 0.753) get the note; 0.5 to 1.0 does not."""
    fig = variant_series(small_range_daily(0.749, 0.757), "buyer_trust")
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert "y axis spans 0.749–0.757: a 1.1 % range" in texts
    fig = variant_series(small_range_daily(0.5, 1.0), "buyer_trust")
    assert not any("y axis spans" in t.get_text() for t in fig.findobj(Text))


def test_variant_series_thousands_separators(results: Results) -> None:
    """GMV ticks above 1,000 are written with a thousands separator once drawn."""
    fig = variant_series(results.daily, "gmv")
    fig.canvas.draw()
    labels = tick_texts(fig.axes[0].yaxis)
    big = [t for t in labels if float(t.replace(",", "").replace("−", "-")) >= 1000]
    assert big and all(re.fullmatch(r"\d{1,3}(,\d{3})+", t) for t in big), labels


# ---------------------------------------------------------------- is_flat, flat_series_note

def test_is_flat_cases() -> None:
    """Constant (NaNs ignored), empty and all-NaN series are flat; any real change is not; rel_tol bounds float noise."""
    assert is_flat([0.0, 0.0, np.nan, 0.0])
    assert is_flat([]) and is_flat(pd.Series([np.nan, np.nan]))
    assert is_flat(pd.DataFrame({"a": [2.0, 2.0], "b": [2.0, np.nan]}))
    assert not is_flat([0.0, 0.0, 1e-12])  # no magnitude to be relative to: any change counts
    assert not is_flat(pd.Series([0.749, 0.757]))
    assert is_flat([1.0, 1.0 + 1e-12]) and not is_flat([1.0, 1.0 + 1e-12], rel_tol=0.0)
    assert not is_flat([1.0, 1.0 + 1e-6])
    # All the series of a figure, of different lengths, are judged together.
    assert is_flat([pd.Series([3.0, 3.0]), np.array([3.0])])
    assert not is_flat([pd.Series([3.0, 3.0]), np.array([4.0])])
    assert not is_flat([np.inf, 1.0]) and is_flat([np.inf, np.inf])
    with pytest.raises(ValueError, match="rel_tol"):
        is_flat([1.0], rel_tol=-1.0)
    with pytest.raises(ValueError, match="numbers"):
        is_flat(["a", "b"])


def test_flat_series_note_says_or_is_none(results: Results) -> None:
    """A constant metric gets a one-line note with its value; a varying one gets None; per market."""
    assert flat_series_note(results.daily, "queue_backlog") == \
        "queue_backlog is 0 on every day of every run (market all): not plotted"
    assert flat_series_note(results.daily, "gmv") is None
    d = pd.DataFrame({"day": [1, 2, 1, 2], "market": ["aa", "aa", "bb", "bb"],
                      "buyer_retention": [0.9, 0.9, 0.8, 0.7], "buyer_trust": [np.nan] * 4})
    assert flat_series_note(d, "buyer_retention", market="aa") == \
        "buyer_retention is 90.0% on every day of every run (market aa): not plotted"
    assert flat_series_note(d, "buyer_retention", market="bb") is None
    assert "has no value" in flat_series_note(d, "buyer_trust", market="aa")
    with pytest.raises(ValueError, match="'cc'"):
        flat_series_note(d, "buyer_retention", market="cc")
    with pytest.raises(ValueError, match="'nope'"):
        flat_series_note(d, "nope")


# ---------------------------------------------------------------- paired_tradeoff

def test_paired_tradeoff_reference_at_origin_and_paired_bars() -> None:
    """The reference is one star at (0, 0); the error bars are exactly the given paired intervals."""
    fig = paired_tradeoff(DIFFS, "prevalence", "gmv")
    ax = fig.axes[0]
    (ref,) = [c for c in ax.collections if c.get_label() == "reference"]
    np.testing.assert_array_equal(ref.get_offsets(), [[0.0, 0.0]])
    lines = {c.get_gid(): c for c in ax.collections if isinstance(c, LineCollection)}
    x_bars = np.array(lines["prevalence interval"].get_segments())
    y_bars = np.array(lines["gmv interval"].get_segments())
    d = DIFFS
    np.testing.assert_array_equal(x_bars[:, 0], np.c_[d["prevalence_ci_low"], d["gmv_diff"]])
    np.testing.assert_array_equal(x_bars[:, 1], np.c_[d["prevalence_ci_high"], d["gmv_diff"]])
    np.testing.assert_array_equal(y_bars[:, 0], np.c_[d["prevalence_diff"], d["gmv_ci_low"]])
    np.testing.assert_array_equal(y_bars[:, 1], np.c_[d["prevalence_diff"], d["gmv_ci_high"]])


def test_paired_tradeoff_front_matches_pareto_front() -> None:
    """The front line joins exactly the pareto_front rows of the policies plus the reference: A, B and C."""
    fig = paired_tradeoff(DIFFS, "prevalence", "gmv")
    ax = fig.axes[0]
    both = pd.DataFrame({"x": [*DIFFS["prevalence_diff"], 0.0], "y": [*DIFFS["gmv_diff"], 0.0]})
    mask = pareto_front(both, "x", "y", x_better=False, y_better=True)
    assert mask.tolist() == [True, True, True, False, False]
    (line,) = [ln for ln in ax.lines if ln.get_label() == "Pareto front"]
    drawn = sorted(zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert drawn == sorted(zip(both["x"][mask], both["y"][mask], strict=True))
    (on,) = [c for c in ax.collections if c.get_label() == "_on the front"]
    assert len(on.get_offsets()) == 3


def test_paired_tradeoff_labels_shares_in_pp_and_counts_with_separators() -> None:
    """Share changes read in percentage points (0.022 is "+2.2 pp"); GMV changes carry a sign and separators."""
    fig = paired_tradeoff(DIFFS, "prevalence", "gmv")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "change in prevalence vs reference (pp)"
    assert ax.get_ylabel() == "change in gmv vs reference (currency)"
    fmt = ax.xaxis.get_major_formatter()
    fmt.set_locs([-0.011, 0.0, 0.011, 0.022])
    assert [fmt(v) for v in (0.022, 0.0, -0.011)] == ["+2.2 pp", "0 pp", "−1.1 pp"]
    fig.canvas.draw()
    assert all(t.endswith(" pp") for t in tick_texts(ax.xaxis))
    ys = tick_texts(ax.yaxis)
    assert "+1,000" in ys or "+2,000" in ys, ys


def test_paired_tradeoff_shows_which_way_is_better() -> None:
    """Arrows point the better way (lower prevalence: left; higher GMV: up); the better-on-both quadrant is shaded."""
    ax = paired_tradeoff(DIFFS, "prevalence", "gmv").axes[0]
    arrows = {a.get_gid(): a for a in ax.texts if a.get_gid()}
    head, tail = arrows["better x"].xy, arrows["better x"].xyann
    assert head[0] < tail[0]
    head, tail = arrows["better y"].xy, arrows["better y"].xyann
    assert head[1] > tail[1]
    (good,) = [p for p in ax.patches if p.get_gid() == "better on both"]
    assert good.get_x() + good.get_width() == 0.0 and good.get_y() == 0.0  # x below 0, y above 0
    # actions has no preferred direction: no x arrow and no quadrants.
    neutral = DIFFS.rename(columns=lambda c: c.replace("prevalence", "actions"))
    ax = paired_tradeoff(neutral, "actions", "gmv").axes[0]
    assert {a.get_gid() for a in ax.texts if a.get_gid()} == {"better y"}
    assert not [p for p in ax.patches if p.get_gid()]


@pytest.mark.parametrize("tight", [False, True])
def test_paired_tradeoff_axes_keep_their_size_with_long_names(tight: bool) -> None:
    """Ten 120-character names are cut to 40 in the legend and the axes keep >= 55 % of the saved figure's width."""
    names = [f"{i} " + "policy-with-a-very-long-name " * 5 for i in range(10)]
    assert all(len(n) >= 120 for n in names)
    reps = -(-10 // len(DIFFS))
    diffs = pd.concat([DIFFS] * reps, ignore_index=True).iloc[:10].assign(policy=names)
    fig = paired_tradeoff(diffs, "prevalence", "gmv")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[2:] == [n[:39] + "…" for n in names]
    buf = io.BytesIO()
    dpi = 80
    fig.savefig(buf, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    axes_px = fig.axes[0].get_window_extent().width * dpi / fig.dpi
    assert axes_px / png_width(buf.getvalue()) >= 0.55


def test_paired_tradeoff_refuses_bad_input() -> None:
    """Missing columns, duplicate policies, one metric twice and an empty table raise ValueError naming the problem."""
    with pytest.raises(ValueError, match="'gmv_ci_high'"):
        paired_tradeoff(DIFFS.drop(columns="gmv_ci_high"), "prevalence", "gmv")
    with pytest.raises(ValueError, match="'A' has more than one row"):
        paired_tradeoff(pd.concat([DIFFS, DIFFS.iloc[:1]]), "prevalence", "gmv")
    with pytest.raises(ValueError, match="both 'gmv'"):
        paired_tradeoff(DIFFS, "gmv", "gmv")
    with pytest.raises(ValueError, match="empty"):
        paired_tradeoff(DIFFS.iloc[:0], "prevalence", "gmv")


# ---------------------------------------------------------------- enforcement_funnel, two branches

def test_funnel_two_branches_bars_are_stage_means(results: Results) -> None:
    """Each bar is the per-run mean of its stage; actioned (true) = actions - false_actions; true + false = flags."""
    s = with_flag_split(results.summary)
    fig = enforcement_funnel(s)
    a = s[s["market"] == "all"]
    assert [ax.get_title() for ax in fig.axes] == ["baseline", "strict"]
    for ax in fig.axes:
        runs = a[a["variant"] == ax.get_title()]
        widths = {p.get_gid(): p.get_width() for p in ax.patches}
        assert set(widths) == {*FUNNEL_TRUE, *FUNNEL_FALSE, "expired_items", "pending_items", "appeals", "overturns"}
        want = runs.mean(numeric_only=True)
        for key in ("violations", "true_flags", "false_flags", "false_actions", "expired_items", "pending_items",
                    "appeals", "overturns"):
            assert widths[key] == pytest.approx(want[key], rel=1e-12), key
        assert widths["true_actions"] == pytest.approx(want["actions"] - want["false_actions"], rel=1e-12)
        assert widths["true_flags"] + widths["false_flags"] == pytest.approx(want["flags"], rel=1e-12)
        assert widths["false_flags"] > 0 and widths["true_flags"] > 0  # not vacuous
        shown = " ".join(t.get_text() for t in ax.texts)
        assert "of violations" in shown and "of false flags" in shown
    assert "older funnel" not in fig.texts[0].get_text()


def test_funnel_refuses_flags_that_do_not_add_up(results: Results) -> None:
    """true_flags + false_flags must equal flags, and wrongly actioned decisions cannot exceed decisions."""
    s = with_flag_split(results.summary)
    s.loc[s.index[0], "false_flags"] += 1
    with pytest.raises(ValueError, match="true_flags \\+ false_flags != flags in 1 of"):
        enforcement_funnel(s)
    s = with_flag_split(results.summary)
    s.loc[s.index[0], "false_actions"] = s["actions"].iloc[0] + 1
    with pytest.raises(ValueError, match="false_actions > actions"):
        enforcement_funnel(s)


def test_funnel_without_new_columns_falls_back_and_says_so(results: Results) -> None:
    """Results without true/false flag columns get the old funnel and the title names the missing columns."""
    fig = enforcement_funnel(results.summary.drop(columns=OLD_FUNNEL))
    assert {p.get_gid() for ax in fig.axes for p in ax.patches} == set(FUNNEL_STAGES)
    assert "older funnel" in fig.texts[0].get_text() and "true_flags" in fig.texts[0].get_text()


def test_funnel_panels_wrap_at_four_per_row_by_group_column(results: Results) -> None:
    """Six groups of a `policy` column give six panels: four on the first row, two on the second."""
    s = with_flag_split(results.summary)
    s = s[s["point"].isin([0, 1, 2])].assign(policy=lambda f: f["variant"] + " p" + f["point"].astype(str))
    fig = enforcement_funnel(s, group="policy")
    assert len(fig.axes) == 6
    assert sorted(ax.get_title() for ax in fig.axes) == sorted(s["policy"].unique())
    tops = [round(ax.get_position().y1, 6) for ax in fig.axes]
    assert len(set(tops[:4])) == 1 and len(set(tops[4:])) == 1 and tops[4] < tops[0]


def test_funnel_count_axis_has_thousands_separators(results: Results) -> None:
    """With counts in the tens of thousands, the x tick labels carry separators and bar labels too."""
    s = with_flag_split(results.summary)
    counts = ["violations", "true_flags", "false_flags", "flags", "actions", "false_actions", "expired_items",
              "pending_items", "appeals", "overturns"]
    s[counts] = s[counts] * 1000
    fig = enforcement_funnel(s)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+", t) for t in tick_texts(ax.xaxis)), tick_texts(ax.xaxis)
    assert any(re.match(r"\d{1,3}(,\d{3})+ \(", t.get_text()) for t in ax.texts)


# ---------------------------------------------------------------- counts elsewhere, hostile names

def test_grid_heatmap_and_tradeoff_counts_have_separators(results: Results) -> None:
    """GMV cells and colour-bar ticks of the heatmap, and the GMV axis of tradeoff, are written with separators."""
    fig = grid_heatmap(results.summary, "gmv", X, Y, variant="strict")
    fig.canvas.draw()
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert cells and all(re.fullmatch(r"\d{1,3}(,\d{3})+", c) for c in cells), cells
    assert any("," in t for t in tick_texts(fig.axes[-1].yaxis))
    fig = tradeoff(points_frame(results), "prevalence", "gmv", label="label")
    fig.canvas.draw()
    assert any("," in t for t in tick_texts(fig.axes[0].yaxis))


HOSTILE = ["$\\alpha$", "cost $x^{2$", "ab\u202ecd", "a|b"]


def test_new_figures_render_hostile_names_as_plain_text(results: Results) -> None:
    """Policy names with '$' or bidi controls draw as plain text in paired_tradeoff, the funnel and the series."""
    diffs = DIFFS.assign(policy=HOSTILE)
    s = with_flag_split(results.summary)
    s["policy"] = s["variant"].map({"baseline": HOSTILE[0], "strict": HOSTILE[1]})
    d = results.daily.assign(policy=results.daily["variant"].map({"baseline": HOSTILE[2], "strict": HOSTILE[3]}))
    camp = [{"name": "sale $x^{2$\u202e", "first_day": 8, "last_day": 10}]
    for fig in (paired_tradeoff(diffs, "prevalence", "gmv", title="$\\gamma$"),
                enforcement_funnel(s, group="policy"), variant_series(d, "gmv", group="policy", campaigns=camp)):
        fig.canvas.draw()
        for t in fig.findobj(Text):
            text = t.get_text()
            assert not any(c in text for c in BIDI_CONTROLS), text
            assert not (t.get_parse_math() and cbook.is_math_text(text)), text


def test_variant_series_band_spans_worlds_when_given(results: Results) -> None:
    """With a `world` column the band is over worlds: two worlds per replication double the count in the note."""
    d = policy_daily(results)
    d = pd.concat([d.assign(world="u0 r" + d["replication"].astype(str)),
                   d.assign(world="u1 r" + d["replication"].astype(str), gmv=d["gmv"] * 1.5)], ignore_index=True)
    fig = variant_series(d, "gmv", group="policy")
    assert "over 6 worlds" in fig.texts[0].get_text()
    assert "over 3 replications" in variant_series(policy_daily(results), "gmv", group="policy").texts[0].get_text()


def test_variant_series_cuts_long_names_in_the_legend(results: Results) -> None:
    """A 120-character policy name is cut to 40 characters in the legend; the line keeps the full name."""
    long = "x" * 120
    d = results.daily.assign(policy=results.daily["variant"].map({"baseline": long, "strict": "strict"}))
    ax = variant_series(d, "gmv", group="policy").axes[0]
    assert long in [ln.get_label() for ln in ax.lines]
    assert "x" * 39 + "…" in [t.get_text() for t in ax.get_legend().get_texts()]
