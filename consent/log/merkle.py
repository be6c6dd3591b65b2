"""RFC 9162 Merkle trees: hashing, proofs and their verification. Pure Python, no Django.

Hashes are 32-byte SHA-256 digests. A tree of `size` leaves is read through `hash_at(lo, hi)`,
which returns the hash of the perfect, aligned subtree over leaves `[lo, hi)` (a power of two
wide, `lo` a multiple of that width): from tiles in the database, or from a list in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: the hash of an empty tree

HashAt = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not lead from what it proves to the root it claims."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """Return the largest power of two smaller than `n` (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_ranges(lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the perfect, aligned subtrees that make up `[lo, hi)`, widest first.

    For every range RFC 9162's recursion produces (`lo` aligned to a power of two at least as
    wide as the range), their hashes folded from the right give the range's hash.
    """
    ranges = []
    while lo < hi:
        width = 1 << ((hi - lo).bit_length() - 1)
        ranges.append((lo, lo + width))
        lo += width
    return ranges


def range_hash(lo: int, hi: int, hash_at: HashAt) -> bytes:
    """Return MTH(D[lo:hi]) for a range of RFC 9162's recursion."""
    if lo == hi:
        return EMPTY_ROOT
    hashes = [hash_at(a, b) for a, b in perfect_ranges(lo, hi)]
    result = hashes.pop()
    while hashes:
        result = node_hash(hashes.pop(), result)
    return result


def root(size: int, hash_at: HashAt) -> bytes:
    return range_hash(0, size, hash_at)


def inclusion_proof(index: int, size: int, hash_at: HashAt) -> list[bytes]:
    """Return the audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            path.append(range_hash(lo + k, hi, hash_at))
            hi = lo + k
        else:
            path.append(range_hash(lo, lo + k, hash_at))
            lo += k
    path.reverse()  # the recursion lists the deepest sibling first
    return path


def consistency_proof(old: int, new: int, hash_at: HashAt) -> list[bytes]:
    """Return the proof that the tree of `old` leaves is a prefix of the tree of `new` leaves
    (RFC 9162 §2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    proof: list[bytes] = []
    lo, hi, m, complete = 0, new, old, True
    while True:
        if m == hi - lo:
            if not complete:
                proof.append(range_hash(lo, hi, hash_at))
            break
        k = split(hi - lo)
        if m <= k:
            proof.append(range_hash(lo + k, hi, hash_at))
            hi = lo + k
        else:
            proof.append(range_hash(lo, lo + k, hash_at))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check an inclusion proof as RFC 9162 §2.1.3.2 says; raise ProofError if it fails."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    r = leaf
    for p, left in _path(index, size - 1, proof, "the tree is"):
        r = node_hash(p, r) if left else node_hash(r, p)
    if r != expected_root:
        raise ProofError("the proof leads to another root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check a consistency proof as RFC 9162 §2.1.4.2 says; raise ProofError if it fails."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from {old} to {new}")
    if old == new:
        if proof:
            raise ProofError("a tree is consistent with itself with an empty proof")
        if old_root != new_root:
            raise ProofError("two trees of one size with different roots")
        return
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the proof's first node
        path.insert(0, old_root)
    if not path:
        raise ProofError("the proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c, left in _path(fn, sn, path[1:], "the trees are"):
        if left:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")


def _path(fn: int, sn: int, path: Sequence[bytes], trees: str) -> Iterator[tuple[bytes, bool]]:
    """Walk a proof's path up the tree as RFC 9162 §2.1.3.2 and §2.1.4.2 both do, from node
    `fn` of a tree whose last node is `sn`: yield each hash, and whether it is the left child
    (else the right) of the next node up. Raise ProofError if the path is not as long as `trees`
    deep."""
    for c in path:
        if sn == 0:
            raise ProofError(f"the proof is longer than {trees} deep")
        left = bool(fn & 1) or fn == sn
        yield c, left
        if left:
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the proof is shorter than {trees} deep")


def in_memory(leaves: Sequence[bytes]) -> HashAt:
    """Return a `hash_at` over leaf hashes held in a list (tests, small trees, offline tools)."""

    def hash_at(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        k = (hi - lo) // 2
        return node_hash(hash_at(lo, lo + k), hash_at(lo + k, hi))

    return hash_at
