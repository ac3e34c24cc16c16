"""Tile caches keyed by immutable tile URLs: an in-process LRU and an optional directory."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path


class TileCache:
    """An LRU of tile bytes in memory, backed by a directory when one is given.

    Keys name an immutable tile (layer, publication, z, x, y), so entries never go stale.

    >>> cache = TileCache(size=2)
    >>> cache.get_or_make(("a",), lambda: b"1"), cache.get_or_make(("a",), lambda: b"2")
    (b'1', b'1')
    >>> _ = cache.get_or_make(("b",), lambda: b"3"); _ = cache.get_or_make(("c",), lambda: b"4")
    >>> ("a",) in cache.memory
    False
    """

    def __init__(self, size: int, directory: str | Path | None = None) -> None:
        self.size = size
        self.directory = Path(directory) if directory else None
        self.memory: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def _path(self, key: tuple) -> Path:
        return self.directory.joinpath(*(str(part) for part in key)).with_suffix(".mvt")

    def _remember(self, key: tuple, data: bytes) -> None:
        if self.size <= 0:
            return
        with self.lock:
            self.memory[key] = data
            self.memory.move_to_end(key)
            while len(self.memory) > self.size:
                self.memory.popitem(last=False)

    def _from_disk(self, key: tuple) -> bytes | None:
        if self.directory is None:
            return None
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def _to_disk(self, key: tuple, data: bytes) -> None:
        if self.directory is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)  # atomic: readers never see half a tile

    def get_or_make(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        """Return the cached tile, or make, cache and return it."""
        with self.lock:
            data = self.memory.get(key)
            if data is not None:
                self.memory.move_to_end(key)
                return data
        data = self._from_disk(key)
        if data is None:
            data = make()
            self._to_disk(key, data)
        self._remember(key, data)
        return data
