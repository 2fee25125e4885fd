"""Downloads (config/downloads.yaml, xai_repro.common.fetch): the real download code over a
local HTTP server serving the fixtures, a folder mirror, offline and corrupted sources
refused with the URL and the file named and nothing half-written, and rule fetch itself."""

import functools
import http.server
import shutil
import socket
import threading

import pytest
import yaml

from conftest import FIXTURES, REPO, run_snakemake
from xai_repro.common import InputError
from xai_repro.common.fetch import FetchError, fetch, load_downloads, sha256_of, source_of

DOWNLOADS = REPO / "config" / "downloads.yaml"
SCHEMA = REPO / "config" / "schema" / "downloads.schema.yaml"
KEY = "mmn/cartpole_gru_32.p"
TABLE = load_downloads(DOWNLOADS, SCHEMA)
needs_fixtures = pytest.mark.skipif(not (FIXTURES / KEY).exists(), reason="no ../shared/fixtures")


@pytest.fixture
def http_mirror():
    """A base URL serving the fixtures folder from 127.0.0.1 (this test's server only)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: a download there fails like offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{KEY}"


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_table_names_every_fixture_it_mirrors_with_the_manifest_checksum():
    manifest = {}
    for line in (FIXTURES / "MANIFEST.tsv").read_text().splitlines()[1:]:
        path, sha, *_ = line.split("\t")
        manifest[path.removeprefix("(not here) ").replace("mnist.npz", "mnist/mnist.npz")] = sha
    for key, entry in TABLE.items():
        assert manifest.get(key) == entry["sha256"], key


@needs_fixtures
def test_download_over_local_http(http_mirror, tmp_path):
    dest = tmp_path / "resources" / KEY
    url = source_of(KEY, TABLE[KEY]["url"], http_mirror)
    assert url == f"{http_mirror}/{KEY}"
    fetch(url, dest, TABLE[KEY]["sha256"])
    assert sha256_of(dest) == TABLE[KEY]["sha256"]
    assert _leftovers(dest.parent) == [dest.name]


@needs_fixtures
def test_folder_mirror(tmp_path):
    dest = tmp_path / KEY
    fetch(source_of(KEY, TABLE[KEY]["url"], str(FIXTURES)), dest, TABLE[KEY]["sha256"])
    assert (FIXTURES / KEY).read_bytes() == dest.read_bytes()


@needs_fixtures
def test_rule_script_main_fetches_from_a_folder_mirror(tmp_path):
    import fetch as fetch_script  # scripts/common/fetch.py, the rule's script

    dest = tmp_path / KEY
    fetch_script.main(
        str(dest), key=KEY, url=TABLE[KEY]["url"], sha256=TABLE[KEY]["sha256"], mirror=str(FIXTURES)
    )
    assert sha256_of(dest) == TABLE[KEY]["sha256"]


def test_public_url_without_a_mirror():
    assert source_of(KEY, TABLE[KEY]["url"], None) == TABLE[KEY]["url"]
    assert source_of(KEY, TABLE[KEY]["url"], "") == TABLE[KEY]["url"]


def test_offline_fails_naming_url_and_file_and_writes_nothing(tmp_path):
    url = _closed_port_url()
    dest = tmp_path / "resources" / KEY
    with pytest.raises(FetchError) as err:
        fetch(url, dest, TABLE[KEY]["sha256"], attempts=2, wait=0.0, timeout=5)
    assert url in str(err.value) and str(dest) in str(err.value)
    assert "after 2 attempts" in str(err.value)
    assert _leftovers(dest.parent) == []


@needs_fixtures
def test_corrupted_file_is_refused_and_not_kept(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "mmn").mkdir(parents=True)
    data = bytearray((FIXTURES / KEY).read_bytes())
    data[100] ^= 0xFF
    (mirror / KEY).write_bytes(bytes(data))
    dest = tmp_path / "resources" / KEY
    url = source_of(KEY, TABLE[KEY]["url"], str(mirror))
    with pytest.raises(FetchError, match="sha256") as err:
        fetch(url, dest, TABLE[KEY]["sha256"], attempts=1)
    assert url in str(err.value) and str(dest) in str(err.value)
    assert _leftovers(dest.parent) == []


def test_bad_table_is_refused_naming_the_key(tmp_path):
    table = yaml.safe_load(DOWNLOADS.read_text())
    table[KEY]["sha256"] = "abc"
    table["../outside"] = table["mmn/pong_gru_32.p"]
    path = tmp_path / "downloads.yaml"
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(InputError) as err:
        load_downloads(path, SCHEMA)
    assert KEY in str(err.value) and "../outside" in str(err.value)


@needs_fixtures
def test_rule_fetch_through_the_mirror(workflow_copy):
    """Rule fetch in the workflow, with the fixtures as mirror (conftest's environment)."""
    run_snakemake(workflow_copy, "--cores", "1", f"resources/{KEY}")
    assert sha256_of(workflow_copy / "resources" / KEY) == TABLE[KEY]["sha256"]
    assert (workflow_copy / "logs" / "fetch" / f"{KEY}.log").exists()


@needs_fixtures
def test_rule_fetch_fails_clearly_on_a_corrupted_mirror(workflow_copy, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "mmn", mirror / "mmn")
    (mirror / KEY).chmod(0o644)
    (mirror / KEY).write_bytes(b"not a checkpoint")
    proc = run_snakemake(
        workflow_copy,
        "--cores",
        "1",
        f"resources/{KEY}",
        check=False,
        env={"XAI_REPRO_MIRROR": str(mirror)},
    )
    assert proc.returncode != 0
    assert "is not the expected" in proc.stdout and f"resources/{KEY}" in proc.stdout
    assert not (workflow_copy / "resources" / KEY).exists()
