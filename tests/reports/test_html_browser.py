"""The HTML report in a real headless Chromium, network off: every chart must render."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sessionbench.reports import html
from sessionbench.results import RunResult

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(page: Path, profile: Path) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}",
        # Network off: every request goes to a proxy that does not exist.
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--virtual-time-budget=15000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_charts_render_offline_in_chromium(run: RunResult, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render(run))
    dom = _dump_dom(page, tmp_path / "profile")
    status = re.search(r'<p id="chart-status"([^>]*)>([^<]*)<', dom)
    assert status is not None, dom[:2000]
    attributes, text = status.groups()
    expected = re.search(r'data-expected="(\d+)"', attributes)
    assert expected is not None and int(expected.group(1)) >= 5
    assert f'data-rendered="{expected.group(1)}"' in attributes, (attributes, text)
    assert "error" not in attributes and not text.strip()
    # vega-embed draws each chart as an SVG whose marks sit in a `marks` group.
    assert len(re.findall(r'<svg[^>]*class="marks"', dom)) == int(expected.group(1))
    assert "<script>alert" not in dom  # run strings stayed text
