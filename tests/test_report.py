"""The HTML report, opened in a real browser (headless Chromium over the DevTools protocol,
tools/chromium/check_report.py): the landing page shows the scorecard table, every figure of
the run is an entry that loads an image of non-zero natural size and has a caption; a
screenshot is saved. The check is shown to fail on a report whose figure was emptied and on
a figure missing from the report. Reuses the session's completed test run."""

import importlib.util
import shutil

import pytest

from conftest import REPO, run_snakemake
from workflow_state import TEST_CONFIG, clone_run, completed_test_run
from xai_repro.common import read_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None, reason="tools/chromium/install.sh not run"
    ),
]
FIGURE_SUFFIXES = {".png", ".gif", ".svg", ".jpg"}


def _checker():
    path = REPO / "tools" / "chromium" / "check_report.py"
    spec = importlib.util.spec_from_file_location("check_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check_report


def _figures(work):
    return sorted(
        str(p.relative_to(work))
        for p in (work / "results").glob("*/*/figures/**/*")
        if p.suffix in FIGURE_SUFFIXES
    )


def _build_report(work, name="report.html"):
    run_snakemake(work, "--cores", "1", "--configfile", TEST_CONFIG, "--report", name)
    return work / name


@pytest.fixture(scope="module")
def report():
    work = completed_test_run()
    return work, _build_report(work)


def test_report_shows_scorecard_and_every_figure(report, tmp_path):
    work, html = report
    figures = _figures(work)
    assert len(figures) >= 20, figures  # every study's figures at test size
    screenshot = tmp_path / "report.png"
    summary = _checker()(html, screenshot, expect=figures)
    assert summary["ok"], summary["problems"]
    card = read_json(work / "results" / "scorecard.json")
    assert summary["scorecard"]["rows"] == len(card["rows"])
    assert summary["scorecard"]["header"][:2] == ["Claim", "Ours"]
    assert set(figures) <= set(summary["entries"])
    assert all(e["width"] > 0 and e["height"] > 0 for e in summary["entries"].values())
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {screenshot}")


def test_report_check_fails_on_an_emptied_or_missing_figure(report, tmp_path):
    work = clone_run(report[0], tmp_path / "workflow")
    figures = _figures(work)
    victim = next(f for f in figures if f.endswith(".png"))
    (work / victim).write_bytes(b"")  # the report embeds an empty image
    html = _build_report(work, "broken.html")
    summary = _checker()(html, None, expect=[*figures, "results/duffing/figures/absent.png"])
    assert not summary["ok"]
    assert any(p.startswith(f"{victim}: image does not load") for p in summary["problems"])
    assert "results/duffing/figures/absent.png: not in the report" in summary["problems"]
    assert len(summary["problems"]) == 2, summary["problems"]


def test_a_docutils_message_is_a_problem():
    check = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location(
            "check_report", REPO / "tools" / "chromium" / "check_report.py"
        )
    )
    check.__spec__.loader.exec_module(check)
    from docutils.core import publish_parts

    html = publish_parts("a |attribution| b", writer="html")["html_body"]
    assert check.docutils_messages(html), html
    assert check.docutils_messages(publish_parts("a b", writer="html")["html_body"]) == []
