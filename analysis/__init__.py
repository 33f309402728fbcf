"""Analysis of livesim results: it reads result tables and files, never model internals."""

from analysis.plots import daily_overview

__all__ = ["daily_overview"]
