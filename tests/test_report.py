"""The HTML report, opened in a real browser (headless Chromium over the DevTools protocol,
tools/chromium/check_report.py): the landing page shows the scorecard table, every figure of
the run is an entry that loads an image of non-zero natural size and has a caption, and no
docutils system message appears on the page or in a caption; a screenshot is saved. The
check is shown to fail on a report whose figure was emptied, on a figure missing from the
report and on a caption with an rst error. Reuses the pytest invocation's completed test run. A fast
test renders every caption with docutils."""

import importlib.util
import shutil

import pytest

from conftest import REPO, run_snakemake
from workflow_state import TEST_CONFIG, clone_run, completed_test_run
from xai_repro.common import read_json

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="tools/chromium/install.sh not run"
)
CAPTIONS = sorted(REPO.glob("report/*/*.rst"))
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


def _docutils_messages(rst: str) -> list[str]:
    """docutils' system messages (warnings and errors) from rendering ``rst`` to HTML."""
    import io

    from docutils.core import publish_parts

    stream = io.StringIO()
    settings = {"warning_stream": stream, "report_level": 2, "halt_level": 5}
    publish_parts(rst, writer="html", settings_overrides=settings)
    return stream.getvalue().splitlines()


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda p: str(p.relative_to(REPO / "report")))
def test_every_caption_renders_without_docutils_messages(caption):
    """Snakemake renders a caption with Jinja, then docutils; an rst error (e.g. a quantity
    between vertical bars read as a substitution) shows in the report as a red message."""
    import jinja2

    class Placeholder(jinja2.ChainableUndefined):  # a config value stands in as one word
        def __str__(self):
            return "value"

    text = jinja2.Environment(undefined=Placeholder).from_string(caption.read_text())
    assert not _docutils_messages(text.render(categories=[]))


def test_the_caption_check_sees_a_substitution_error():
    assert "attribution" in " ".join(_docutils_messages("mean |attribution| per feature"))


@pytest.fixture(scope="module")
def report():
    work = completed_test_run()
    return work, _build_report(work)


@pytest.mark.slow
@needs_chromium
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


@pytest.mark.slow
@needs_chromium
def test_report_check_fails_on_an_emptied_or_missing_figure_or_an_rst_error(report, tmp_path):
    work = clone_run(report[0], tmp_path / "workflow")
    figures = _figures(work)
    victim = next(f for f in figures if f.endswith(".png"))
    (work / victim).write_bytes(b"")  # the report embeds an empty image
    caption = work / "report" / "highway" / "ig.rst"  # a quantity between vertical bars
    caption.write_text(caption.read_text() + "\nMean |attribution| per feature.\n")
    html = _build_report(work, "broken.html")
    summary = _checker()(html, None, expect=[*figures, "results/duffing/figures/absent.png"])
    assert not summary["ok"]
    assert any(p.startswith(f"{victim}: image does not load") for p in summary["problems"])
    assert "results/duffing/figures/absent.png: not in the report" in summary["problems"]
    docutils = [p for p in summary["problems"] if p.startswith("docutils: ")]
    assert len(docutils) == 1 and 'Undefined substitution referenced: "attribution"' in docutils[0]
    assert len(summary["problems"]) == 3, summary["problems"]
