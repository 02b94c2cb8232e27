"""Model files: an .npz of plain arrays plus one JSON "meta" string. No pickle, ever: a model file may
come from a user (`--sentiment-model PATH`), and loading one must not run code.

meta always has kind, format, model_id (the embedding model the arrays were made with), trained_on and
created; each model adds its own (labels, hyper-parameters...).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

FORMAT = 1


class ModelFileError(ValueError):
    """Not a model file of the expected kind; the message says which file and why."""


def save(path, kind: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    meta = {
        "kind": kind,
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getvalue())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model holds no secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a model file of `kind`; ModelFileError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{path}: not a model file ({exc.__class__.__name__})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise ModelFileError(f"{path}: not a model file (no meta)") from None
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        found = meta.get("kind") if isinstance(meta, dict) else None
        raise ModelFileError(f"{path}: a {found or 'unknown'} model, not a {kind} model")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: model file format {meta.get('format')}, this version reads {FORMAT}")
    return meta, arrays


def kind_of(path) -> str:
    """The kind written in a model file, or "" when it is not one."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            return str(json.loads(str(data["meta"])).get("kind", ""))
    except Exception:
        return ""
