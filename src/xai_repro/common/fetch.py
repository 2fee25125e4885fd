"""Fetch external files (config/downloads.yaml) into resources/, checked by sha256.

Each file is keyed by its path under resources/. Its source is the table's public URL, or,
with a mirror, ``<mirror>/<key>``: a mirror is a folder (a path or ``file://`` URL) or a base
URL (``http://`` or ``https://``). A download goes to a temporary file beside the target and
is moved into place only when its sha256 matches, so a failure (offline, a wrong checksum, a
kill) leaves nothing under the target's name. Failures name the URL and the file.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from xai_repro.common.io import atomic_output, read_valid_yaml

log = logging.getLogger(__name__)

MIRROR_ENV = "XAI_REPRO_MIRROR"
_CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A file could not be fetched, or its bytes are not the table's."""


def load_downloads(path, schema_path) -> dict[str, dict]:
    """The download table, validated (every key known, sha256 and URL well formed)."""
    return read_valid_yaml(Path(path), Path(schema_path), "download table")


def source_of(key: str, url: str, mirror: str | None) -> str:
    """Where ``key`` comes from: its public ``url``, or ``<mirror>/<key>`` with a mirror."""
    if not mirror:
        return url
    if mirror.startswith(("http://", "https://")):
        return mirror.rstrip("/") + "/" + urllib.parse.quote(key)
    folder = Path(mirror.removeprefix("file://")).resolve()
    return (folder / key).as_uri()


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK)


def fetch(
    url: str,
    dest,
    sha256: str,
    *,
    attempts: int = 3,
    timeout: float = 60.0,
    wait: float = 2.0,
) -> None:
    """Download ``url`` to ``dest`` if its sha256 is ``sha256``; retry ``attempts`` times.

    Raises :class:`FetchError` naming the URL and ``dest`` when every attempt fails (no
    network, a missing file, a server error) or the bytes have another checksum (not
    retried: the same source gives the same bytes). ``dest`` is written only on success.
    """
    dest = Path(dest)
    last = None
    for attempt in range(1, attempts + 1):
        try:
            # the temporary file is moved to ``dest`` only when the block ends without error
            with atomic_output(dest) as tmp:
                _download(url, tmp, timeout)
                got = sha256_of(tmp)
                if got != sha256:
                    raise FetchError(
                        f"{url} -> {dest}: sha256 {got} is not the expected {sha256} "
                        "(config/downloads.yaml); the file was not kept"
                    )
        except (urllib.error.URLError, OSError, ValueError) as err:
            last = err
            log.warning("%s -> %s: attempt %d/%d failed: %s", url, dest, attempt, attempts, err)
            if attempt < attempts:
                time.sleep(wait * attempt)
            continue
        log.info("%s -> %s (sha256 ok)", url, dest)
        return
    raise FetchError(
        f"cannot fetch {url} -> {dest} after {attempts} attempts: {last}. Offline? Set "
        f"{MIRROR_ENV} to a folder or base URL holding {dest.name} (docs/runs.md)"
    )
