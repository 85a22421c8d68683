"""Headless Chromium for the HTML replay tests (the viewer loaded and ready)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def open_viewer(html: Path, *, size: str = "800,600", log: bool = False):
    """Headless Chromium on a written HTML replay, once its viewer is ready (the
    caller quits the driver); skips the test without chromium and chromedriver."""
    import time

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium / chromedriver not installed (make browser)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--enable-unsafe-swiftshader", f"--window-size={size}"):
        opts.add_argument(flag)
    if log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.get(Path(html).as_uri())
    for _ in range(100):
        if d.execute_script("return !!(window.twinViewer && window.twinViewer.ready)"):
            return d
        time.sleep(0.1)
    msg = d.execute_script("return document.getElementById('msg').textContent")
    d.quit()
    pytest.fail("viewer did not become ready: " + msg)
