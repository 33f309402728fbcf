"""Agents: creators (Mesa agents with array-backed state) and the vectorised buyer population."""

from sim.agents.buyers import BuyerPopulation
from sim.agents.creators import Creator, CreatorTable

__all__ = ["BuyerPopulation", "Creator", "CreatorTable"]
