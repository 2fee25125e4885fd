"""Open a Snakemake report in headless Chromium and check what a reader would see.

    python tools/chromium/check_report.py report.html --screenshot shot.png [--expect a.png ...]

Drives Debian's ``chromium`` (tools/chromium/install.sh) through the DevTools protocol over
a pipe (``--remote-debugging-pipe``: no port, no websocket library), with networking and
updates off and a fresh profile. Checks, after the report's scripts ran:

- the landing page (the view the report opens on) shows the scorecard table
  (``table.scorecard``, from report/workflow.rst) with at least one body row;
- every image result of the report, shown the way a click on it shows it, loads an image
  of non-zero natural size, and has a caption;
- every path given with ``--expect`` is an entry of the report;
- no docutils error or warning (a "System Message", e.g. an undefined substitution from a
  caption that puts a quantity between vertical bars) anywhere in the report's page or data.

Prints a JSON summary; exits 1 when a check fails (the summary says which).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
    "--window-size=1400,1000",
)

# Runs in the page: the scorecard table of the landing view.
SCORECARD_JS = """(() => {
  const t = document.querySelector('table.scorecard');
  if (!t) return null;
  return {rows: t.querySelectorAll('tbody tr').length,
          header: [...t.querySelectorAll('thead th')].map(th => th.textContent.trim())};
})()"""

# Runs in the page: show one result as its click handler does, then measure the <img>.
SHOW_JS = """(async (path) => {
  const entry = results[path];
  app.setView({content: 'img', contentPath: entry.data_uri, resultPath: path});
  for (let i = 0; i < 100; i++) {
    await new Promise(r => setTimeout(r, 50));
    const img = [...document.querySelectorAll('#app img')].find(im => im.src === entry.data_uri);
    if (img && img.complete) {
      const decoded = await img.decode().then(() => true, () => false);
      return {width: img.naturalWidth, height: img.naturalHeight, decoded: decoded,
              caption: (entry.caption || '').replace(/<[^>]*>/g, '').trim().length};
    }
  }
  return {width: 0, height: 0, decoded: false, caption: 0, timeout: true};
})"""


class Browser:
    """A headless Chromium driven over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, chromium: str = "chromium"):
        self.profile = tempfile.TemporaryDirectory(prefix="xai-repro-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child reads commands on fd 3 and writes replies on fd 4; move the child's ends
        # above 4 first so that placing one cannot overwrite the other
        child_r, child_w = (
            fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=lambda: (os.dup2(child_r, 3), os.dup2(child_w, 4)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_r)
        os.close(child_w)
        self._buffer = b""
        self._next_id = 0

    def send(self, method: str, session: str | None = None, **params):
        """Send one DevTools command and return its result (raise on a protocol error)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> str:
        """Open ``url`` in a new page; return its DevTools session id."""
        target = self.send("Target.createTarget", url=url)["targetId"]
        return self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def evaluate(self, session: str, expression: str):
        result = self.send(
            "Runtime.evaluate",
            session,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.profile.cleanup()


def wait_for(browser: Browser, session: str, expression: str, timeout: float = 60.0):
    """Poll ``expression`` in the page until it is truthy; return its value (None on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.evaluate(session, expression)
        if value:
            return value
        time.sleep(0.2)
    return None


def docutils_messages(html: str) -> list[str]:
    """The docutils system messages (errors, warnings) rendered into the report's text."""
    found = []
    for marker in ("System Message:", "system-message"):
        start = html.find(marker)
        if start >= 0:
            found.append(f"docutils message in the report: {html[start : start + 160]!r}")
    return found


def check_report(report: Path, screenshot: Path | None, expect=()) -> dict:
    """Open ``report`` and run the checks; return the summary (``ok`` says if all passed)."""
    browser = Browser()
    try:
        session = browser.open(Path(report).resolve().as_uri())
        loaded = wait_for(browser, session, "typeof app !== 'undefined' && !!app.state")
        summary = {"report": str(report), "app_loaded": bool(loaded), "problems": []}
        summary["problems"] += docutils_messages(Path(report).read_text(errors="replace"))
        if not loaded:
            summary["problems"].append("the report's app did not start")
            summary["ok"] = False
            return summary
        card = wait_for(browser, session, SCORECARD_JS, timeout=10)
        summary["scorecard"] = card
        if not card or card["rows"] < 1:
            summary["problems"].append("no scorecard table with rows on the landing page")
        if screenshot is not None:  # the scorecard in view, as a reader first sees it
            browser.evaluate(
                session, "document.querySelector('table.scorecard')?.scrollIntoView() ?? null"
            )
            shot = browser.send("Page.captureScreenshot", session, format="png")
            Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        entries = browser.evaluate(
            session,
            "Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.mime_type]))",
        )
        summary["entries"] = {}
        for path, mime in sorted(entries.items()):
            if not (mime or "").startswith("image/"):
                continue
            shown = browser.evaluate(session, f"({SHOW_JS})({json.dumps(path)})")
            summary["entries"][path] = shown
            if not (shown["width"] > 0 and shown["height"] > 0 and shown["decoded"]):
                summary["problems"].append(f"{path}: image does not load ({shown})")
            if not shown["caption"]:
                summary["problems"].append(f"{path}: no caption")
        for path in expect:
            if path not in entries:
                summary["problems"].append(f"{path}: not in the report")
        summary["ok"] = not summary["problems"]
        return summary
    finally:
        browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--expect", nargs="*", default=[], help="paths the report must show")
    args = parser.parse_args(argv)
    summary = check_report(args.report, args.screenshot, args.expect)
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
