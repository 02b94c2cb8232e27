"""Model files per workspace: <data dir>/models/<workspace id>/<kind>-v<N>.npz.

Each save writes a new version atomically (a temporary file, then os.replace) and keeps the latest
KEEP versions, so a worker reading the model while another retrains sees a whole file, and a bad
retraining can be rolled back by deleting the newest file. Loads are cached by (path, mtime).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from smmdesk.nlp import modelfile
from smmdesk.nlp.embed import data_dir

KEEP = 3
VERSIONED = re.compile(r"^(?P<kind>[a-z]+)-v(?P<version>\d+)\.npz$")
_cache: dict[tuple[str, float], object] = {}
_lock = threading.Lock()


def _classes() -> dict:
    from smmdesk.nlp.router import RouterModel
    from smmdesk.nlp.sentiment import SentimentModel

    return {"sentiment": SentimentModel, "router": RouterModel}


def model_dir(workspace_id) -> Path:
    return data_dir() / "models" / str(workspace_id)


def versions(workspace_id, kind: str) -> list[tuple[int, Path]]:
    """(version, path) of the saved models of `kind`, oldest first."""
    folder = model_dir(workspace_id)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = VERSIONED.match(path.name)
        if match and match["kind"] == kind:
            found.append((int(match["version"]), path))
    return sorted(found)


def save(workspace_id, model) -> int:
    """Write `model` as the next version of its kind; returns the version and sets model.version."""
    kind = getattr(model, "kind", None)
    if kind not in _classes() or not isinstance(model, _classes()[kind]):
        raise ValueError(f"cannot store {type(model).__name__}: not a sentiment or router model")
    with _lock:
        existing = versions(workspace_id, kind)
        version = existing[-1][0] + 1 if existing else 1
        model.version = version
        model.save(model_dir(workspace_id) / f"{kind}-v{version}.npz")
        for _, old in (existing + [(version, None)])[:-KEEP]:
            old.unlink(missing_ok=True)
    return version


def load(workspace_id, kind: str):
    """The newest model of `kind` for the workspace, or None when it has none yet. A file that is not a
    model of that kind raises modelfile.ModelFileError."""
    cls = _classes().get(kind)
    if cls is None:
        raise ValueError(f"no model kind {kind!r}")
    found = versions(workspace_id, kind)
    if not found:
        return None
    version, path = found[-1]
    try:
        key = (str(path), path.stat().st_mtime)
    except FileNotFoundError:  # replaced by a newer version between listing and reading
        return load(workspace_id, kind)
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        cached = cls.load(path)
        cached.version = version
        with _lock:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = cached
    return cached


def forget() -> None:
    """Drop the in-process cache (tests, and after deleting files by hand)."""
    with _lock:
        _cache.clear()


__all__ = ["KEEP", "forget", "load", "model_dir", "modelfile", "save", "versions"]
