"""The reviewers' report in a real browser: headless Chromium driven over the DevTools protocol (CDP).

Opens ``report/index.html`` from disk, filters, sorts, pages, opens orders with a real mouse click, marks review
findings confirmed/dismissed, exports the decisions (reads the Blob back and checks the download), and checks
that a record crafted with ``<script>`` and ``onerror=`` stays text: no alert, no changed title, no CSP
violation, no script error. Needs the Debian package ``chromium`` (scripts/setup.sh installs it) and the
``websocket-client`` package (the ``dev`` extra). ``WOCHECK_SCREENSHOTS=DIR`` keeps the screenshots.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from test_report import EVIL_ID, EVIL_NOTE, build, make_night
from wocheck.report.html import THUMB_SIDE

pytestmark = pytest.mark.slow

FILLERS = 496  # with the four designed orders, a night of 500 orders: ten pages of 50

CHROMIUM = os.environ.get("WOCHECK_CHROMIUM") or next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
WAIT_S = 20.0

# Runs in the page before its own script: records alerts and CSP violations instead of letting them pass.
PROBE = """
window.__alerts = [];
window.alert = window.confirm = window.prompt = function (m) { window.__alerts.push(String(m)); };
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class Cdp:
    """A minimal synchronous Chrome DevTools Protocol client over one WebSocket."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=WAIT_S, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        mid = next(self.ids)
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def wait_event(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(name)

    def close(self) -> None:
        self.ws.close()


class Page:
    def __init__(self, cdp: Cdp) -> None:
        self.cdp = cdp

    def js(self, expr: str, *, promise: bool = False) -> Any:
        r = self.cdp.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=promise)
        if "exceptionDetails" in r:
            raise AssertionError(f"JS error in {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def until(self, expr: str, what: str = "") -> Any:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            value = self.js(expr)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(what or expr)

    def goto(self, url: str) -> None:
        self.cdp.call("Page.navigate", url=url)
        self.cdp.wait_event("Page.loadEventFired")

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element (scrolled into view)."""
        box = self.until(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            if (!el) return null; el.scrollIntoView({{block: "center"}});
            const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()""",
                         f"element {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.cdp.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_into(self, selector: str, text: str) -> None:
        self.js(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.focus(); el.select(); }})()")
        self.cdp.call("Input.insertText", text=text)

    def select(self, selector: str, value: str) -> None:
        self.js(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            el.value = {json.dumps(value)}; el.dispatchEvent(new Event("change", {{bubbles: true}})); }})()""")

    def rows(self) -> list[str]:
        return self.js("Array.from(document.querySelectorAll('#orders tbody tr')).map(r => r.dataset.oid)") or []

    def screenshot(self, path: Path) -> None:
        data = self.cdp.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        keep = os.environ.get("WOCHECK_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[Page, Cdp, Path]]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; scripts/setup.sh installs it)")
    profile, downloads = tmp_path / "profile", tmp_path / "downloads"
    profile.mkdir()
    downloads.mkdir()
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--window-size=1280,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    page_cdp = browser_cdp = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT_S
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit {proc.poll()})")
            time.sleep(0.05)
        port, browser_path = port_file.read_text().splitlines()[:2]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=WAIT_S) as r:
            targets = json.load(r)
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        browser_cdp = Cdp(f"ws://127.0.0.1:{port}{browser_path}")
        browser_cdp.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        page_cdp = Cdp(page_ws)
        for domain in ("Page", "Runtime"):
            page_cdp.call(f"{domain}.enable")
        page_cdp.call("Page.addScriptToEvaluateOnNewDocument", source=PROBE)
        yield Page(page_cdp), page_cdp, downloads
    finally:
        for c in (page_cdp, browser_cdp):
            if c is not None:
                c.close()
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # chromium and the helpers it started, nothing else
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _no_harm(page: Page, cdp: Cdp) -> None:
    """Nothing crafted ran, nothing was blocked, no script error."""
    assert page.js("window.__alerts") == []
    assert page.js("window.__csp") == []
    assert "pwned" not in page.js("document.title")
    assert page.js("document.querySelectorAll('script').length") == 2
    assert page.js("document.querySelectorAll('img[src=\"x\"], b').length") == 0
    errors = [e for e in cdp.events if e.get("method") == "Runtime.exceptionThrown"]
    assert errors == []


def test_report_in_chromium(tmp_path: Path, browser: tuple[Page, Cdp, Path]) -> None:
    page, cdp, downloads = browser
    night = make_night(tmp_path / "night", fillers=FILLERS)
    assert len(night.outcomes) == 500
    index = build(night)
    n_flagged = FILLERS + 3
    pages = -(-n_flagged // 50)
    page.goto(index.as_uri())
    page.until("!!document.querySelector('#orders tbody tr')", "the order list")

    # The list: Chinese, paged 50 at a time, every flagged order counted.
    assert page.js("document.getElementById('title').textContent") == "工单照片合规检查报告"
    assert len(page.rows()) == 50
    assert page.js("document.getElementById('shown').textContent") == f"显示 {n_flagged} / {n_flagged} 单"
    page.click("#next")
    assert page.js("document.getElementById('pageno').textContent") == f"第 2 / {pages} 页"
    page.screenshot(tmp_path / "report-list.png")

    # Filters: clause, verdict, engineer, free text (typed), each narrowing to the right orders.
    page.select("#f-clause", "44")
    assert page.rows() == ["WO_B"]
    page.select("#f-clause", "")
    page.select("#f-verdict", "review")
    assert sorted(page.rows()) == sorted(["WO_A", "WO_B", EVIL_ID])
    page.select("#f-verdict", "")
    page.type_into("#f-eng", "工程师1")
    by_eng1 = sum(i % 5 == 1 for i in range(FILLERS))  # more than a page: the count, and a full first page
    page.until(f"document.getElementById('shown').textContent === '显示 {by_eng1} / {n_flagged} 单'", "engineer filter")
    assert len(page.rows()) == min(50, by_eng1)
    page.type_into("#f-eng", "")
    page.type_into("#f-q", "李娜")
    page.until("document.querySelectorAll('#orders tbody tr').length === 1", "free-text filter")
    assert page.rows() == ["WO_B"]
    page.type_into("#f-q", "")
    page.until(f"document.getElementById('shown').textContent.startsWith('显示 {n_flagged} ')", "filters cleared")

    # Sorting: by fine (the default, highest first), then by order id ascending.
    shown_fines = ("Array.from(document.querySelectorAll('#orders tbody td.num:nth-child(8)'))"
                   ".map(td => parseFloat(td.firstChild.textContent.replace('¥', '')) || 0)")
    first = page.js(shown_fines)
    for _ in range(pages - 1):  # to the last page: still highest first, all below the first page's
        page.click("#next")
    assert page.js("document.getElementById('pageno').textContent") == f"第 {pages} / {pages} 页"
    last = page.js(shown_fines)
    assert first == sorted(first, reverse=True) and last == sorted(last, reverse=True)
    assert max(last) <= min(first) and min(last) < max(first)
    page.click("th[data-sort='id']")
    ids = page.rows()
    assert ids == sorted(ids)

    # Open WO_A with a real click; the photos are annotated thumbnails that load, linked to the full photo.
    page.type_into("#f-q", "WO_A")
    page.until("document.querySelectorAll('#orders tbody tr').length === 1")
    page.click("#orders a.oid")
    page.until("!!document.getElementById('order-id')", "the order view")
    assert page.js("document.getElementById('order-id').textContent").startswith("WO_A")
    page.js("document.querySelector('.photos').scrollIntoView()")
    sizes = page.until("(() => { const im = Array.from(document.querySelectorAll('.photos img'));"
                       " return im.length === 2 && im.every(i => i.complete && i.naturalWidth > 0)"
                       " ? im.map(i => i.naturalWidth) : null; })()", "thumbnails loaded")
    assert sizes == [THUMB_SIDE, THUMB_SIDE]
    hrefs = page.js("Array.from(document.querySelectorAll('.photos figure > a')).map(a => a.href)")
    assert [h.rsplit("/", 2)[-2:] for h in hrefs] == [["WO_A", "form.jpg"], ["WO_A", "pipe.jpg"]]
    assert page.js("Array.from(document.querySelectorAll('.photos figcaption li')).map(li => li.value)") == [2, 3]

    # Confirm WO_A's review: the fine now includes clause 46.
    assert "¥60" in page.js("document.querySelector('.kv').textContent")
    page.click(".finding.review .decide-confirm")
    page.until("!!document.querySelector('.finding.review .chip.confirmed')", "confirmed mark")
    assert "¥80" in page.js("document.querySelector('.kv').textContent")
    page.screenshot(tmp_path / "report-order.png")

    # The crafted order: shown as text, its review dismissed.
    evil_index = page.js(f"JSON.parse(document.getElementById('wocheck-data').textContent).orders"
                         f".findIndex(o => o.id === {json.dumps(EVIL_ID)})")
    page.js(f"location.hash = '#o={evil_index}'")
    page.until(f"document.getElementById('order-id').textContent.startsWith({json.dumps(EVIL_ID)})")
    assert EVIL_NOTE in page.js("document.querySelector('.kv').textContent")
    page.click(".finding.review .decide-dismiss")
    page.until("!!document.querySelector('.finding.review .chip.dismissed')")
    page.js("document.querySelector('.photos').scrollIntoView()")
    page.until("(() => { const i = document.querySelector('.photos img');"
               " return i && i.complete && i.naturalWidth; })()", "the crafted photo's thumbnail")
    page.screenshot(tmp_path / "report-evil.png")
    _no_harm(page, cdp)

    # Export: the Blob's JSON Lines are the contract's decision records, and the file is downloaded.
    page.click("#export")
    text = page.js("new Promise(r => { const f = new FileReader(); f.onload = () => r(f.result);"
                   " f.readAsText(window.wocheckReport.lastExport.blob); })", promise=True)
    records = [json.loads(x) for x in text.splitlines()]
    assert sorted(records, key=json.dumps) == sorted([
        {"order_id": "WO_A", "clause": 46, "check": "pipes.messy", "decision": "confirmed"},
        {"order_id": EVIL_ID, "clause": 50, "check": "auth.reused_photo", "decision": "dismissed"},
    ], key=json.dumps)
    name = page.js("window.wocheckReport.lastExport.name")
    assert name.startswith("wocheck-decisions-") and name.endswith(".jsonl")
    wait_for: Callable[[], bool] = lambda: (downloads / name).is_file()  # noqa: E731
    deadline = time.monotonic() + WAIT_S
    while not wait_for() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (downloads / name).read_text(encoding="utf-8") == text
    _penalty_takes_the_decisions(night.outcomes, downloads / name, tmp_path)

    # Decisions survive a reload (localStorage); English toggle.
    page.goto(index.as_uri())
    page.until("document.getElementById('export').textContent.endsWith('(2)')", "decisions kept")
    page.click("#lang")
    assert page.js("document.getElementById('title').textContent") == "Work-order photo compliance report"
    assert page.js("document.getElementById('shown').textContent") == f"{n_flagged} of {n_flagged} orders"
    page.select("#f-verdict", "undecided")
    assert page.rows() == ["WO_B"]  # WO_A and the crafted order are decided
    _no_harm(page, cdp)


def _penalty_takes_the_decisions(outcomes: list[Any], decisions: Path, tmp: Path) -> None:
    """`wocheck penalty --decisions FILE` reads the export: confirmed reviews are charged, dismissed not."""
    from typer.testing import CliRunner

    from wocheck.cli import app

    viol = tmp / "violations.jsonl"
    viol.write_text("".join(json.dumps(v.to_json_dict(), ensure_ascii=False) + "\n"
                            for o in outcomes for v in o.violations), encoding="utf-8")
    res = CliRunner().invoke(app, ["penalty", str(viol), "--format", "json", "--decisions", str(decisions)])
    assert res.exit_code in (0, 1), res.output  # 1: WO_B's reviews still await a decision
    doc = json.loads(res.stdout)
    charged = {(c["order_id"], c["clause"]) for party in doc["parties"] if party["role"] == "contractor"
               for c in party["charges"]}
    assert ("WO_A", 46) in charged  # confirmed in the page
    assert (EVIL_ID, 50) not in charged and ("WO_B", 44) not in charged  # dismissed / undecided
