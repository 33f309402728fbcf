"""Plots of sweep results: each renders from a stored sweep, and what it draws matches the data."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from analysis.load import Results, load
from analysis.plots import (
    FUNNEL_STAGES,
    enforcement_funnel,
    grid_heatmap,
    lorenz,
    pareto_front,
    scorecard,
    tradeoff,
    variant_series,
)
from sim.metrics import gini

X, Y = "policy.detection.threshold", "policy.review.capacity_per_day"


@pytest.fixture(scope="module")
def results(sweep_results) -> Results:
    """The stored fixture sweep, loaded once for this module."""
    return load(sweep_results)


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


def score_table(res: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = res.summary[res.summary["market"] == "all"]
    mean = s.groupby("variant")[["gmv", "prevalence", "buyer_harm"]].mean()
    table = pd.DataFrame({
        "gmv": mean["gmv"].map("{:,.0f}".format),
        "prevalence": mean["prevalence"].map("{:.1%}".format),
        "buyer_harm": mean["buyer_harm"],
    })
    colors = pd.DataFrame("white", index=table.index, columns=table.columns)
    colors.loc["strict", "prevalence"] = "#d9f2d9"
    colors.loc["strict", "gmv"] = "#f8d7d7"
    return table, colors


BUILDERS: dict[str, Callable[[Results], Figure]] = {
    "variant_series": lambda r: variant_series(r.daily, "prevalence", campaigns=campaigns(r)),
    "tradeoff": lambda r: tradeoff(points_frame(r), "prevalence", "gmv", label="label"),
    "grid_heatmap": lambda r: grid_heatmap(r.summary, "prevalence", X, Y),
    "lorenz": lambda r: lorenz(r.creators),
    "enforcement_funnel": lambda r: enforcement_funnel(r.summary),
    "scorecard": lambda r: scorecard(score_table(r)[0], title="t", colors=score_table(r)[1]),
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
    fig = enforcement_funnel(results.summary)
    s = results.summary[results.summary["market"] == "all"]
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


# ---------------------------------------------------------------- scorecard

def test_scorecard_cells_and_colours(results: Results) -> None:
    """Cells show the table's strings (numbers formatted) on the requested background colours."""
    table, colors = score_table(results)
    fig = scorecard(table, colors=colors)
    cells = fig.axes[0].tables[0].get_celld()
    header = [cells[0, j].get_text().get_text() for j in range(4)]
    assert header == ["variant", "gmv", "prevalence", "buyer_harm"]
    strict = list(table.index).index("strict") + 1
    assert cells[strict, 0].get_text().get_text() == "strict"
    assert cells[strict, 2].get_text().get_text() == table.loc["strict", "prevalence"]
    assert cells[strict, 3].get_text().get_text() == f"{table.loc['strict', 'buyer_harm']:,.3g}"
    assert cells[strict, 2].get_facecolor() == to_rgba("#d9f2d9")
    assert cells[strict, 1].get_facecolor() == to_rgba("#f8d7d7")


def test_scorecard_size_follows_table() -> None:
    """More rows make a taller figure, wider cells a wider one; a colours frame of another shape is refused."""
    small = pd.DataFrame({"a": ["1"]}, index=["v"])
    tall = pd.DataFrame({"a": ["1"] * 12}, index=[f"v{i}" for i in range(12)])
    wide = pd.DataFrame({"a": ["a much longer cell text than one"]}, index=["v"])
    w0, h0 = scorecard(small).get_size_inches()
    assert scorecard(tall).get_size_inches()[1] > h0
    assert scorecard(wide).get_size_inches()[0] > w0
    with pytest.raises(ValueError, match="shape"):
        scorecard(small, colors=pd.DataFrame([["white", "white"]]))
