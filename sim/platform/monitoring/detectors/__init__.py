"""Detectors: one file per kind, registered in ``sim.platform.monitoring.registry.DETECTORS``."""

from __future__ import annotations

from sim.platform.monitoring.detectors import cusum, ewma, pelt, threshold, zscore  # noqa: F401  (registers the built-in kinds)
from sim.platform.monitoring.detectors.base import Detector, TrailingWindow, WindowedConfig, WindowedDetector, directed

__all__ = ["Detector", "TrailingWindow", "WindowedConfig", "WindowedDetector", "directed"]
