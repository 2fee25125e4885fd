"""Which results move with the CPU's floating point: the same computations under other kernels.

One machine can stand in for several CPUs: OpenBLAS picks its kernel by
``OPENBLAS_CORETYPE`` (Haswell: no fused multiply-add in the 2-vector dot; SkylakeX and
Cooperlake: with it), numpy's SIMD loops can be switched off by ``NPY_DISABLE_CPU_FEATURES``,
and numba compiles for ``NUMBA_CPU_NAME`` (``generic``: baseline x86-64, no FMA). Each probe
runs in a subprocess per variant and is compared with the first variant's bits.

    .venv/bin/python tools/numerics/cpu_variants.py    # prints a Markdown table

docs/hardware.md gives the table and what follows from it.
"""

import json
import os
import subprocess
import sys

AVX512 = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
VARIANTS = {
    "OpenBLAS Haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "OpenBLAS SkylakeX": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "numpy without AVX-512": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": AVX512},
    "numba generic x86-64": {"OPENBLAS_CORETYPE": "Haswell", "NUMBA_CPU_NAME": "generic"},
}
PROBES = {
    "np.dot of 2-vectors (highway-env lanes)": """
a = rng.normal(scale=50.0, size=(2000, 2)); b = rng.normal(size=(2000, 2))
out = np.array([np.dot(x, y) for x, y in zip(a, b)])""",
    "np.linalg.norm of 2-vectors": """
a = rng.normal(scale=50.0, size=(2000, 2))
out = np.array([np.linalg.norm(x) for x in a])""",
    "np.exp, np.log1p on arrays": """
x = rng.uniform(-50, 50, 100000)
out = np.concatenate([np.exp(x), np.log1p(np.abs(x))])""",
    "np.cos, np.sin on arrays (the Duffing forcing)": """
x = rng.uniform(-50, 50, 100000)
out = np.concatenate([np.cos(x), np.sin(x)])""",
    "Duffing flow (numba DOP853, fastmath)": """
from xai_repro.duffing.ode import duffing_flow
out = duffing_flow(rng.uniform([-2, -2, 0], [2, 2, 10], (500, 3)))""",
}
RUN = """
import json, sys, numpy as np
rng = np.random.default_rng(0)
{code}
out = np.asarray(out, dtype=np.float64).ravel()
json.dump(out.tolist(), sys.stdout)
"""


def run(code, env):
    environ = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    environ.update(env, NUMBA_CACHE_DIR=f"/tmp/numba-{env.get('NUMBA_CPU_NAME', 'host')}")
    result = subprocess.run(
        [sys.executable, "-c", RUN.format(code=code)],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    import numpy as np

    return np.array(json.loads(result.stdout))


def main():
    import numpy as np

    names = list(VARIANTS)
    print("| computation | " + " | ".join(names[1:]) + " |")
    print("|---" * len(names) + "|")
    for probe, code in PROBES.items():
        base = run(code, VARIANTS[names[0]])
        cells = []
        for name in names[1:]:
            other = run(code, VARIANTS[name])
            differ = (base != other).mean()
            gap = (abs(base - other) / np.maximum(abs(base), 1e-300)).max()
            cells.append(
                "same bits" if differ == 0 else f"{differ:.1%} differ (max relative {gap:.0e})"
            )
        print(f"| {probe} | " + " | ".join(cells) + " |")
    print(
        f"\nbaseline: {names[0]}; each cell compares with it, on one machine ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
