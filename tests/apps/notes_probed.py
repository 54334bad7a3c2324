"""The healthy notes service with the probes installed by its authors (remote mode)."""

from notes import app

from sessionbench.targets.probes import Probes

Probes().install(app)
