"""Verdicts: from a cell's measurements to findings, each with the figures behind it."""

from .rules import CellEvidence, diagnose

__all__ = ["CellEvidence", "diagnose"]
