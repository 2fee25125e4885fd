"""Rule ``import_surrogate``: the notebook's trained surrogate as a Keras model.

Reads the TF2 weights checkpoint that the seed notebook's ``ModelCheckpoint`` wrote (its
prefix, beside the ``.index`` and ``.data-*`` files); writes ``notebook_surrogate.keras``
(build_surrogate's MLP with those weights) and ``notebook_scaler.json``, the input moments
the notebook's StandardScaler used. A checkpoint whose variables do not fit the configured
architecture is refused, naming the file and the variable.
"""

import logging

from xai_repro.common import atomic_output, setup_logging, write_json
from xai_repro.duffing.ode import FEATURES, StandardScaler

log = logging.getLogger(__name__)


def main(checkpoint, model_path, scaler_json, *, architecture: dict, scaler: dict):
    from xai_repro.duffing.surrogate import import_checkpoint

    moments = StandardScaler(scaler["mean"], scaler["scale"], FEATURES)
    model = import_checkpoint(checkpoint, **architecture)
    log.info("imported %s: %d parameters", checkpoint, model.count_params())
    with atomic_output(model_path) as tmp:
        model.save(tmp)
    write_json(scaler_json, moments.to_dict())


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.index.removesuffix(".index"), sm.output.model, sm.output.scaler, **sm.params)
