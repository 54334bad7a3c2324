"""Verdicts: from a cell's measurements to findings, each with the figures behind it."""

from .evidence import CellEvidence
from .rules import diagnose, findings_from

__all__ = ["CellEvidence", "diagnose", "findings_from"]
