"""Rule ``fetch``: one file of config/downloads.yaml into resources/, checked by sha256.

The mirror (a folder or base URL replacing the public URLs) comes from the environment
variable XAI_REPRO_MIRROR: where the bytes come from is not a parameter of the result.
"""

import os

from xai_repro.common import setup_logging
from xai_repro.common.fetch import MIRROR_ENV, fetch, source_of


def main(out, *, key, url, sha256, mirror):
    fetch(source_of(key, url, mirror), out, sha256)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.output[0], **sm.params, mirror=os.environ.get(MIRROR_ENV))
