"""Near-duplicate search over 256-bit hashes by Hamming distance: multi-index hashing.

Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index Hashing" (CVPR 2012): cut each
code into ``m`` disjoint substrings; if two codes are within distance ``r``, then by the pigeonhole
principle at least one substring is within ``floor(r / m)`` of the query's. So the candidates are the
entries whose substring equals one of the query substring's few neighbours in one of ``m`` small tables,
and only those are compared in full. Substrings are 16 bits (a 256-bit hash has m = 16, a 64-bit one
m = 4); each table is probed with the query's substring and its neighbours within ``r // m`` bits (1, 17
or 137 probes), then the candidates are checked exactly.

Layout (numpy, no Python object per entry): a *main segment* holds, per substring, the entries sorted by
that substring's value in CSR form (65,537 offsets + one int32 row per entry), plus the hashes as four
uint64 words per row. New entries go to a small *delta* that is searched by brute force (vectorised
XOR + popcount) and merged into the main segment — rebuilt with 16-bit radix sorts — when it grows past
a fraction of it, so inserts stay cheap and amortised. Memory for 256 bits: 32 B (hash) + 8 B (id) +
16 × 4 B (tables) ≈ 104 B per entry, plus 8 MB of offsets; for 64 bits ≈ 32 B per entry plus 2 MB.

A *key-block* index (``tables`` < substrings) keeps tables for the first few substrings only and finds
the entries that share one of them exactly with a query (no bit flips probed): for the crop tier's window
hashes, whose leading substrings are their lowest, most stable frequencies, and whose 81 query windows
would cost 81 × 16 × 17 probes under the exact scheme. 6 tables: 64 B per entry plus 3 MB.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_SUB_BITS = 16
_KEYS = 1 << _SUB_BITS
_MERGE_MIN = 50_000  # merge the delta into the main segment past this many entries …
_MERGE_FRACTION = 0.125  # … or this fraction of the main segment, whichever is larger
_FLIPS1 = [1 << b for b in range(_SUB_BITS)]
_FLIPS2 = [(1 << a) | (1 << b) for a in range(_SUB_BITS) for b in range(a + 1, _SUB_BITS)]
# A substring and its neighbours within 0, 1 and 2 bits: 1, 17 and 137 probes.
_PROBES = [np.array(f, dtype=np.uint32) for f in ([0], [0, *_FLIPS1], [0, *_FLIPS1, *_FLIPS2])]


def _as_rows(hashes: NDArray[np.uint8] | bytes | list[bytes], nbytes: int) -> NDArray[np.uint8]:
    if isinstance(hashes, bytes):
        hashes = [hashes]
    if isinstance(hashes, list):
        if any(len(h) != nbytes for h in hashes):
            raise ValueError(f"every hash must be {nbytes} bytes")
        arr = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, nbytes)
    else:
        arr = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, nbytes)
    return arr


class MultiIndexHash:
    """An in-memory index of (id, hash) entries answering "which ids lie within radius r".

    ``bits`` is the hash length (a multiple of 64: 256 for `dct256`, 64 for `phash64`); the index cuts it
    into ``bits / 16`` substrings and is exact for radius ≤ ``max_radius`` = 3 × substrings − 1 (every
    substring probed within 2 bits).

    With ``tables`` (< substrings), only the first ``tables`` substrings get a table: a *key-block* index
    for hashes whose leading substrings are their most stable bits (the block-major window hashes of
    `wocheck.metrics.hashing`). `search_many` then finds the entries within the radius that share one of
    those substrings exactly with a query — not exact in the pigeonhole sense (its recall is measured, see
    scripts/bench_history.py), but a fraction of the probes and of the memory (32 + 8 + 4 × tables bytes
    per entry).
    """

    def __init__(self, bits: int = 256, tables: int | None = None) -> None:
        if bits % 64 or bits <= 0:
            raise ValueError("bits must be a positive multiple of 64")
        self.bits = bits
        self.nbytes_hash = bits // 8
        self.substrings = bits // _SUB_BITS
        self.tables = self.substrings if tables is None else int(tables)
        if not 1 <= self.tables <= self.substrings:
            raise ValueError(f"tables must be within 1…{self.substrings}")
        self.exact = self.tables == self.substrings
        self.max_radius = 3 * self.substrings - 1 if self.exact else self.bits
        self._ids = np.zeros(0, np.int64)
        self._words = np.zeros((0, bits // 64), np.uint64)
        self._offsets = np.zeros((self.tables, _KEYS + 1), np.int64)
        self._rows = np.zeros((self.tables, 0), np.int32)
        self._delta_ids: list[NDArray[np.int64]] = []
        self._delta_rows: list[NDArray[np.uint8]] = []
        self._delta_n = 0
        self._delta_cache: tuple[NDArray[np.int64], NDArray[np.uint64]] | None = None

    def __len__(self) -> int:
        return len(self._ids) + self._delta_n

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays (bytes)."""
        delta = sum(a.nbytes for a in self._delta_ids) + sum(a.nbytes for a in self._delta_rows)
        return int(self._ids.nbytes + self._words.nbytes + self._offsets.nbytes + self._rows.nbytes + delta)

    def add(self, ids: NDArray[np.integer] | list[int], hashes: NDArray[np.uint8] | list[bytes] | bytes) -> None:
        """Add entries (ids need not be unique or sorted; a hash is ``bits / 8`` bytes)."""
        rows = _as_rows(hashes, self.nbytes_hash)
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(id_arr) != len(rows):
            raise ValueError(f"{len(id_arr)} ids for {len(rows)} hashes")
        if not len(rows):
            return
        self._delta_ids.append(id_arr.copy())
        self._delta_rows.append(rows.copy())
        self._delta_n += len(rows)
        self._delta_cache = None
        if self._delta_n > max(_MERGE_MIN, _MERGE_FRACTION * len(self._ids)):
            self.merge()

    def merge(self) -> None:
        """Move the delta into the main segment (rebuilds the substring tables)."""
        if not self._delta_n:
            return
        new_ids = np.concatenate(self._delta_ids)
        new_rows = np.concatenate(self._delta_rows)
        self._ids = np.concatenate([self._ids, new_ids])
        self._words = np.concatenate([self._words, self._to_words(new_rows)])
        self._delta_ids, self._delta_rows, self._delta_n, self._delta_cache = [], [], 0, None
        subs = self._words.view(np.uint16).reshape(-1, self.substrings)
        n = len(self._ids)
        self._rows = np.empty((self.tables, n), np.int32)
        self._offsets = np.empty((self.tables, _KEYS + 1), np.int64)
        for s in range(self.tables):
            keys = subs[:, s]
            self._rows[s] = np.argsort(keys, kind="stable")  # radix sort for 16-bit keys
            counts = np.bincount(keys, minlength=_KEYS)
            self._offsets[s, 0] = 0
            np.cumsum(counts, out=self._offsets[s, 1:])

    def _to_words(self, rows: NDArray[np.uint8]) -> NDArray[np.uint64]:
        return np.ascontiguousarray(rows).view(np.uint64).reshape(-1, self.bits // 64)

    def _delta(self) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
        if self._delta_cache is None:
            if self._delta_n:
                self._delta_cache = (np.concatenate(self._delta_ids),
                                     self._to_words(np.concatenate(self._delta_rows)))
            else:
                self._delta_cache = (np.zeros(0, np.int64), np.zeros((0, self.bits // 64), np.uint64))
        return self._delta_cache

    def search_many(self, queries: list[bytes] | bytes, radius: int, *,
                    key_radius: int | None = None) -> list[tuple[int, int]]:
        """Entries within ``radius`` bits of *any* of ``queries`` as (id, smallest distance), nearest first
        (ties: lower id). ``queries`` is a list of hashes or their concatenation.

        On a full index, the same answer as merging `search` over the queries, in one vectorised pass. On a
        key-block index (``tables`` < substrings), the entries within ``radius`` of a query that share one
        of the first ``tables`` substrings with it exactly. With ``key_radius``, a (query, entry) pair also
        has to lie within ``key_radius`` bits over those first ``tables`` substrings alone.
        """
        if not 0 <= radius <= self.max_radius:
            raise ValueError(f"radius must be within 0…{self.max_radius}")
        if isinstance(queries, bytes):
            if len(queries) % self.nbytes_hash:
                raise ValueError(f"concatenated queries must be a multiple of {self.nbytes_hash} bytes")
            q_rows = np.frombuffer(queries, dtype=np.uint8).reshape(-1, self.nbytes_hash)
        else:
            q_rows = _as_rows(list(queries), self.nbytes_hash)
        if not len(q_rows):
            return []
        q_words = self._to_words(q_rows)
        k = len(q_rows)
        q_sub = np.ascontiguousarray(q_rows).view(np.uint16).reshape(k, self.substrings)[:, :self.tables]
        found_ids: list[NDArray[np.int64]] = []
        found_d: list[NDArray[np.int64]] = []
        if len(self._ids):
            flips = _PROBES[radius // self.substrings] if self.exact else _PROBES[0]
            probe = (q_sub.astype(np.uint32)[:, :, None] ^ flips[None, None, :]).astype(np.int64)  # (q, table, probe)
            table = np.broadcast_to(np.arange(self.tables)[None, :, None], probe.shape).ravel()
            qidx = np.broadcast_to(np.arange(k)[:, None, None], probe.shape).ravel()
            keys = probe.ravel()
            starts = self._offsets[table, keys]
            lengths = self._offsets[table, keys + 1] - starts
            nz = lengths > 0
            starts, lengths, table, qidx = starts[nz], lengths[nz], table[nz], qidx[nz]
            total = int(lengths.sum())
            if total:
                base = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
                cand = self._rows[np.repeat(table, lengths), base + np.arange(total)]
                cq = np.repeat(qidx, lengths)
                x = self._words[cand] ^ q_words[cq]
                d = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
                keep = (d <= radius) & self._key_ok(x, key_radius)
                found_ids.append(self._ids[cand[keep]])
                found_d.append(d[keep])
        d_ids, d_words = self._delta()
        if len(d_ids):
            if self.exact:
                pairs_e = np.arange(len(d_ids)).repeat(k)
                pairs_q = np.tile(np.arange(k), len(d_ids))
            else:  # only delta entries sharing a key block with some query: a 65,536-entry mask per table
                d_sub = d_words.view(np.uint16).reshape(len(d_ids), self.substrings)[:, :self.tables]
                hit = np.zeros((self.tables, _KEYS), bool)
                hit[np.arange(self.tables)[None, :].repeat(k, 0), q_sub] = True
                entries = np.flatnonzero(hit[np.arange(self.tables)[None, :], d_sub].any(axis=1))
                pairs_e = entries.repeat(k)
                pairs_q = np.tile(np.arange(k), len(entries))
            if len(pairs_e):
                x = d_words[pairs_e] ^ q_words[pairs_q]
                d = np.bitwise_count(x).sum(axis=1, dtype=np.int64)
                keep = (d <= radius) & self._key_ok(x, key_radius)
                found_ids.append(d_ids[pairs_e[keep]])
                found_d.append(d[keep])
        if not found_ids:
            return []
        ids = np.concatenate(found_ids)
        ds = np.concatenate(found_d)
        order = np.lexsort((ds, ids))  # by id, nearest first: keep each id's first
        ids, ds = ids[order], ds[order]
        first = np.ones(len(ids), bool)
        first[1:] = ids[1:] != ids[:-1]
        ids, ds = ids[first], ds[first]
        order = np.lexsort((ids, ds))
        return [(int(ids[i]), int(ds[i])) for i in order]

    def _key_ok(self, xor_words: NDArray[np.uint64], key_radius: int | None) -> NDArray[np.bool_] | bool:
        """Whether each XOR row differs in at most ``key_radius`` bits over the first ``tables`` substrings."""
        if key_radius is None:
            return True
        sub = np.ascontiguousarray(xor_words).view(np.uint16).reshape(len(xor_words), self.substrings)
        return np.bitwise_count(sub[:, :self.tables]).sum(axis=1, dtype=np.int64) <= key_radius

    def search(self, query: bytes, radius: int) -> list[tuple[int, int]]:
        """Entries within ``radius`` bits of ``query`` as (id, distance), nearest first (ties: lower id).

        Exact (no entry within the radius is missed) for ``radius ≤ max_radius``. A key-block index answers
        as `search_many` does.
        """
        if not self.exact:
            return self.search_many([query], radius)
        if not 0 <= radius <= self.max_radius:
            raise ValueError(f"radius must be within 0…{self.max_radius}")
        q_rows = _as_rows(query, self.nbytes_hash)
        q_words = self._to_words(q_rows)[0]
        found_ids: list[NDArray[np.int64]] = []
        found_d: list[NDArray[np.int64]] = []
        if len(self._ids):
            q_sub = q_rows.view(np.uint16)[0].astype(np.uint32)
            flips = _PROBES[radius // self.substrings]  # pigeonhole: some substring within r // m bits
            probe = (q_sub[:, None] ^ flips[None, :]).astype(np.int64)
            table = np.repeat(np.arange(self.substrings), probe.shape[1])
            starts = self._offsets[table, probe.ravel()]
            ends = self._offsets[table, probe.ravel() + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                nz = lengths > 0
                starts, lengths, table = starts[nz], lengths[nz], table[nz]
                base = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
                cols = base + np.arange(total)
                cand = np.unique(self._rows[np.repeat(table, lengths), cols])
                d = np.bitwise_count(self._words[cand] ^ q_words).sum(axis=1, dtype=np.int64)
                keep = d <= radius
                found_ids.append(self._ids[cand[keep]])
                found_d.append(d[keep])
        d_ids, d_words = self._delta()
        if len(d_ids):
            d = np.bitwise_count(d_words ^ q_words).sum(axis=1, dtype=np.int64)
            keep = d <= radius
            found_ids.append(d_ids[keep])
            found_d.append(d[keep])
        if not found_ids:
            return []
        ids = np.concatenate(found_ids)
        ds = np.concatenate(found_d)
        order = np.lexsort((ids, ds))
        return [(int(ids[i]), int(ds[i])) for i in order]
