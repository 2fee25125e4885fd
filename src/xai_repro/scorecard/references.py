"""Read ``config/references/<study>.yaml`` files: one list of headline claims per study.

Each file is validated against ``config/schema/references.schema.yaml`` (every field, a
``kind`` on every row, no unknown keys) and then checked for what a schema cannot say: ids
are unique and start with the file's study, a published or derived row has the original's
number, and an ``abs``/``rel`` tolerance has a reference number to measure from.
Any fault is an :class:`~xai_repro.common.InputError` naming the file and the row.
"""

from pathlib import Path

from xai_repro.common import InputError, read_yaml


def _schema_errors(rows, schema: dict) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(rows), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


def check_rows(rows: list[dict], study: str, where: str) -> None:
    """What the schema cannot check: id prefix, unique ids, a reference for published and
    derived rows and for abs/rel tolerances."""
    seen = set()
    for row in rows:
        rid = row["id"]
        if not rid.startswith(f"{study}."):
            raise InputError(f"{where}: id {rid!r} must start with '{study}.'")
        if rid in seen:
            raise InputError(f"{where}: id {rid!r} appears twice")
        seen.add(rid)
        if row["kind"] in ("published", "derived") and row["reference"] is None:
            raise InputError(
                f"{where}: {rid}: a {row['kind']} row needs the original's number as its "
                "reference (a target of this project's own is kind goal)"
            )
        tolerance = next(iter(row.get("tolerance") or {}), None)  # none on a metric-less row
        if tolerance in ("abs", "rel") and row["reference"] is None:
            raise InputError(
                f"{where}: {rid}: tolerance {tolerance!r} needs a reference number "
                "(use min, max or range when the original gives none)"
            )


def load_references(paths, schema_path) -> dict[str, list[dict]]:
    """Study -> its validated reference rows, from ``<study>.yaml`` files (sorted by study)."""
    schema = read_yaml(Path(schema_path))
    out = {}
    for path in sorted(Path(p) for p in paths):
        rows = read_yaml(path)
        if rows is None:
            rows = []
        errors = _schema_errors(rows, schema)
        if errors:
            raise InputError(f"{path}: invalid references:\n  " + "\n  ".join(errors))
        check_rows(rows, path.stem, str(path))
        out[path.stem] = rows
    return out
