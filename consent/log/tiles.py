"""C2SP tlog-tiles: the tree's hashes in tiles of height 8, their paths, and growing them.

A tile at level L, index N holds the hashes of the tree's nodes at height 8·L numbered
256·N to 256·N + 255 (at level 0, the leaf hashes). A full tile holds 256; the tile at the right
edge of a level holds fewer, its width W. Pure Python, no Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .merkle import HASH_SIZE, HashAt, node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT
MAX_LEVEL = 63 // HEIGHT  # a tree of at most 2**63 leaves

ReadTile = Callable[[int, int, int], bytes]
"""`read_tile(level, index, width)`: at least `width` hashes of a tile, concatenated."""

_PATH = re.compile(r"(\d)/((?:x\d{3}/)*\d{3})(?:\.p/(\d{1,3}))?", re.ASCII)


def tile_path(level: int, index: int, width: int = WIDTH) -> str:
    """Return `L/N[.p/W]` as C2SP tlog-tiles spells it: N in three-digit groups, x-prefixed."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    path = f"{level}/" + "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])
    return path if width == WIDTH else f"{path}.p/{width}"


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """Return `(level, index, width)` of a tile path made by `tile_path`; raise ValueError."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"not a tile path: {path!r}")
    level, groups, width = match.groups()
    parts = groups.split("/")
    if len(parts) > 1 and parts[0] == "x000":
        raise ValueError("a tile index has no leading zero groups")
    if int(level) > MAX_LEVEL or len(parts) > 7:
        raise ValueError("beyond any tree")
    w = WIDTH if width is None else int(width)
    if width is not None and (not 1 <= w < WIDTH or width != str(w)):
        raise ValueError("a partial tile is 1 to 255 hashes wide")
    return int(level), int("".join(p.lstrip("x") for p in parts)), w


def width_at(level: int, size: int) -> int:
    """Return the width of the partial tile at the right edge of a level (0: there is none)."""
    return (size >> (HEIGHT * level)) % WIDTH


def available_width(level: int, index: int, size: int) -> int:
    """Return how many hashes tile (level, index) holds in a tree of `size` leaves."""
    nodes = size >> (HEIGHT * level)
    return max(0, min(WIDTH, nodes - index * WIDTH))


def levels(size: int) -> int:
    """Return how many levels of tiles a tree of `size` leaves has."""
    count = 0
    while size >> (HEIGHT * count):
        count += 1
    return count


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def fold(hashes: list[bytes]) -> bytes:
    """Return the root of a perfect subtree from its 2**k bottom hashes."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def hash_reader(read_tile: ReadTile) -> HashAt:
    """Return a `hash_at` for merkle's proofs that reads the tree through its tiles."""

    def hash_at(lo: int, hi: int) -> bytes:
        height = (hi - lo).bit_length() - 1
        level, sub = divmod(height, HEIGHT)
        first = lo >> (HEIGHT * level)
        index, offset = divmod(first, WIDTH)
        data = read_tile(level, index, offset + (1 << sub))
        return fold(split_hashes(data[offset * HASH_SIZE : (offset + (1 << sub)) * HASH_SIZE]))

    return hash_at


@dataclass(frozen=True)
class Tile:
    level: int
    index: int
    hashes: bytes  # WIDTH hashes, concatenated

    @functools.cached_property
    def root(self) -> bytes:
        """The tile's subtree root: the hash it contributes to the tile above it."""
        return fold(split_hashes(self.hashes))


class Edge:
    """The partial tile at the right edge of each level: all a tree needs to grow and to tell
    its root. `grow` adds leaf hashes and returns the tiles they filled."""

    def __init__(self, size: int, partial: list[list[bytes]]) -> None:
        self.size = size
        self.partial = partial  # partial[L] holds width_at(L, size) hashes

    def grow(self, leaves: Iterable[bytes]) -> list[Tile]:
        full: list[Tile] = []
        for leaf in leaves:
            self.size += 1
            carry, level = leaf, 0
            while True:
                if level == len(self.partial):
                    self.partial.append([])
                row = self.partial[level]
                row.append(carry)
                if len(row) < WIDTH:
                    break
                tile = Tile(level, (self.size >> (HEIGHT * level)) // WIDTH - 1, b"".join(row))
                full.append(tile)
                row.clear()
                carry, level = tile.root, level + 1
        return full

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        row = self.partial[level] if level < len(self.partial) else []
        if index != (self.size >> (HEIGHT * level)) // WIDTH or width > len(row):
            raise LookupError(f"tile {tile_path(level, index)} is not at the edge")
        return b"".join(row)

    def root(self) -> bytes:
        from .merkle import root

        return root(self.size, hash_reader(self.read_tile))
