"""Analysis of livesim results: it reads result tables and files, never model internals."""

from analysis.load import Results, ResultsError, connect, load, query
from analysis.plots import daily_overview

__all__ = ["Results", "ResultsError", "connect", "daily_overview", "load", "query"]
# Statistics (analysis.stats), plots (analysis.plots) and the report (analysis.report) are
# imported from their modules: scipy and the report builder load only when used.
