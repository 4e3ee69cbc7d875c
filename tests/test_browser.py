"""The agent flow in headless Chromium against the real ASGI server with simulated telephony.

The server runs as it does in ``make demo`` (daphne, demo data, Chinese UI), on its own
SQLite file and a free port on 127.0.0.1. Every customer answers in this world, a few times
faster than life, so the call reaches the agent within seconds.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A full mainland mobile number anywhere in the page would break the masking rule.
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    db: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: `make test` installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (make test installs it in CI)")
    var = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'browser.sqlite3'}",
        "CALLDECK_VAR_DIR": str(var),
        "CALLDECK_DEMO": "true",
        "DEBUG": "false",
        "CALLDECK_SIM_ANSWER_RATE": "1.0",
        "CALLDECK_SIM_SPEED": "4",
        "LANGUAGE_CODE": "zh-hans",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    # The demo calls 08:00–21:00 and not on public holidays; this test must not depend on
    # the hour or the day it runs at.
    open_all_day = (
        "from calldeck.campaigns.models import CallingWindow, Holiday;"
        "CallingWindow.objects.update(start='00:00', end='23:59:59');"
        "Holiday.objects.all().delete()"
    )
    for command in (["migrate", "--noinput"], ["load_demo"], ["shell", "-c", open_all_day]):
        subprocess.run([*manage, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    log = (var / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "calldeck.asgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((var / "server.log").read_text()) from None
                time.sleep(0.3)
        yield Server(url, var / "browser.sqlite3")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_it_works_a_customer_from_next_to_saved_outcome(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        try:
            page.goto(f"{server.url}/login/")
            page.fill("input[name=username]", "agent1")
            page.fill("input[name=password]", "calldeck-demo")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/desk/")
            state = page.locator("[data-testid=state]")
            expect(state).to_have_text("就绪")

            page.wait_for_selector("body[data-live='1']")  # socket open, panel refreshed
            page.keyboard.press("n")  # Next
            customer = page.locator("[data-testid=customer]")
            try:
                expect(customer).to_be_visible(timeout=5000)
            except AssertionError:
                # A press that met a panel swap in flight: press again, as an agent would.
                page.click("[data-testid=next]")
                expect(customer).to_be_visible()
            name = page.locator(".customer-name").inner_text()
            # The script greets the customer by name; the number is masked everywhere.
            expect(page.locator("[data-testid=script]")).to_contain_text(name)
            expect(page.locator(".phones")).to_contain_text("****")
            assert not FULL_MOBILE.search(page.content())

            page.keyboard.press("d")  # Dial
            expect(page.locator(".desk-grid")).to_have_attribute(
                "data-state", "talking", timeout=15000
            )
            page.fill("#call-notes", "客户对12期分期感兴趣")
            page.click("[data-testid=hangup]")
            expect(page.locator(".desk-grid")).to_have_attribute("data-state", "wrapup")

            # The server refuses the next customer until the outcome is saved.
            page.click("[data-testid=next]")
            error = page.locator("[data-testid=error]")
            expect(error).to_contain_text("请先保存")
            expect(page.locator(".desk-grid")).to_have_attribute("data-state", "wrapup")
            expect(page.locator("#call-notes")).to_have_value("客户对12期分期感兴趣")
            page.screenshot(path=str(ARTIFACTS / "desk-wrapup-refused.png"))

            page.keyboard.press("1")  # the "sale" outcome
            expect(page.locator("input[name=sale_amount]")).to_be_visible()
            page.keyboard.press("Control+Enter")
            expect(page.locator(".desk-grid")).to_have_attribute("data-state", "ready")
            expect(page.locator("[data-testid=notice]")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "desk-after-sale.png"))
        finally:
            browser.close()
    # What the page showed is what the database holds: one call with its sale and notes.
    with sqlite3.connect(server.db) as db:
        notes, amount = db.execute(
            "SELECT c.notes, s.amount FROM calls_call c JOIN calls_sale s ON s.call_id = c.id"
        ).fetchone()
    assert notes == "客户对12期分期感兴趣" and float(amount) > 0
