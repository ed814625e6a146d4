"""Near-duplicate search over 64- or 256-bit hashes by Hamming distance: multi-index hashing.

Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index Hashing" (CVPR 2012): cut each
code into ``m`` disjoint substrings; if two codes are within distance ``r``, then by the pigeonhole
principle at least one substring is within ``floor(r / m)`` of the query's. So the candidates are the
entries whose substring equals one of the query substring's few neighbours in one of ``m`` tables, and
only those are compared in full.

The substrings' length follows the index's size, as the paper advises (about log2 n bits): each merge
picks the layout — ``m`` substrings of 16 to 22 bits, each probed within ``r // m`` ≤ 2 bits — with the
fewest expected bucket probes plus candidates for the index's design radius. A 256-bit index searched
within 31 bits keeps 16 substrings of 16 bits (17 probes each) up to a few million entries and 12 of
21-22 bits (about 240 probes each, buckets ~60 times smaller) beyond: at 10 million entries ~12 k
candidates per query instead of ~41 k. The probes of one search (of all its queries) are deduplicated, so
a bucket is read once, and the candidates are filtered on their first 128 bits before the full distance.

Layout (numpy, no Python object per entry): a *main segment* holds, per substring, the entries' row
numbers sorted by that substring's value in CSR form (one int32 offset per possible value + one int32 row
per entry), plus the hashes as 64-bit words. New entries go to a small *delta*, searched by brute force
(vectorised XOR + popcount) and merged into the main segment — rebuilt with 16-bit radix sorts — once it
holds `_MERGE_AT` entries: a bounded delta keeps every search's brute-force part bounded (about 0.5 ms),
while the merge's cost, linear in the index, is amortised over that many inserts.

A *key-block* index (``tables`` < substrings; 16-bit substrings) keeps tables for the first few substrings
only and finds the entries that share one of them exactly with a query (no bit flips probed): for the crop
tier's window hashes, whose leading substrings are their lowest, most stable frequencies, and whose 256
query windows would cost 256 × 16 × 17 probes under the exact scheme. 4 tables: 56 B per entry plus 1 MB.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

_MIN_BITS, _MAX_BITS = 16, 22  # substring lengths a layout may use
_MERGE_AT = 50_000  # merge the delta into the main segment when it holds this many entries
_OFFSET_BYTES_PER_ENTRY = 32  # a layout's offset tables may take up to this per entry (or the 16-bit one's)
_PREFILTER_WORDS = 2  # candidates are filtered on their first 128 bits before the full distance


@cache
def _flips(width: int, depth: int) -> NDArray[np.int64]:
    """XOR masks of a ``width``-bit substring's neighbours within ``depth`` bits (itself first)."""
    masks = [0]
    for k in range(1, depth + 1):
        masks += [sum(1 << b for b in bs) for bs in combinations(range(width), k)]
    return np.array(masks, dtype=np.int64)


class _Layout:
    """``m`` substrings covering ``bits`` bits, as even as possible (the longer ones first)."""

    def __init__(self, bits: int, m: int, tables: int | None = None) -> None:
        short, extra = divmod(bits, m)
        self.widths = tuple(short + 1 if j < extra else short for j in range(m))
        self.starts = tuple(int(s) for s in np.cumsum((0, *self.widths[:-1])))
        self.m = m
        # table t's offsets are offsets[base[t] : base[t] + 2 ** width + 1]
        self.tables = m if tables is None else tables  # tables kept: the first ones
        self.base = np.cumsum([0] + [(1 << w) + 1 for w in self.widths[:self.tables]]).astype(np.int64)

    def keys(self, words: NDArray[np.uint64], t: int) -> NDArray[np.int64]:
        """Substring ``t`` of each row of ``words`` (bit i of a hash is bit i % 64 of its word i // 64)."""
        lo, off = divmod(self.starts[t], 64)
        width = self.widths[t]
        v = words[:, lo] >> np.uint64(off)
        if off + width > 64:
            v = v | (words[:, lo + 1] << np.uint64(64 - off))
        return (v & np.uint64((1 << width) - 1)).astype(np.int64)

    def cost(self, n: int, radius: int) -> float:
        """Expected bucket probes plus candidates of one search within ``radius`` over ``n`` random hashes."""
        depth = radius // self.m
        return sum(len(_flips(w, depth)) * (1 + n / (1 << w)) for w in self.widths)

    @property
    def offset_bytes(self) -> int:
        return int(self.base[-1]) * 4


def _sorted_keys(lay: _Layout, words: NDArray[np.uint64],
                 t: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Substring ``t`` of ``words``, the rows in its order (stable) and the count of each value."""
    keys = lay.keys(words, t)
    order = np.argsort(keys.astype(np.uint16), kind="stable")  # radix sort on the low 16 bits …
    if lay.widths[t] > 16:  # … then on the high bits (a stable LSD radix sort)
        order = order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]
    return keys, order, np.bincount(keys, minlength=1 << lay.widths[t])


def _as_rows(hashes: NDArray[np.uint8] | bytes | list[bytes], nbytes: int) -> NDArray[np.uint8]:
    if isinstance(hashes, bytes):
        if len(hashes) % nbytes:
            raise ValueError(f"concatenated hashes must be a multiple of {nbytes} bytes")
        return np.frombuffer(hashes, dtype=np.uint8).reshape(-1, nbytes)
    if isinstance(hashes, list):
        if any(len(h) != nbytes for h in hashes):
            raise ValueError(f"every hash must be {nbytes} bytes")
        return np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, nbytes)
    return np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, nbytes)


def _popcount(x: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Set bits per row of a (rows, words) array."""
    d = np.bitwise_count(x[:, 0]).astype(np.int64)
    for i in range(1, x.shape[1]):
        d += np.bitwise_count(x[:, i])
    return d


class MultiIndexHash:
    """An in-memory index of (id, hash) entries answering "which ids lie within radius r".

    ``bits`` is the hash length (a multiple of 64: 256 for `dct256`, 64 for `phash64`). ``radius`` is the
    largest radius it will be searched with (default and at most 3 × bits / 16 − 1: every 16-bit
    substring probed within 2 bits); searches up to it are exact, and the layout is chosen for it.

    With ``tables`` (< bits / 16), only the first ``tables`` 16-bit substrings get a table: a *key-block*
    index for hashes whose leading substrings are their most stable bits (the block-major window hashes of
    `wocheck.metrics.hashing`). `search_many` then finds the entries within the radius that share one of
    those substrings exactly with a query — not exact in the pigeonhole sense (its recall is measured, see
    scripts/bench_history.py), but a fraction of the probes and of the memory.
    """

    def __init__(self, bits: int = 256, tables: int | None = None, radius: int | None = None) -> None:
        if bits % 64 or bits <= 0:
            raise ValueError("bits must be a positive multiple of 64")
        self.bits = bits
        self.nbytes_hash = bits // 8
        self._nwords = bits // 64
        self.substrings = bits // 16
        self.tables = self.substrings if tables is None else int(tables)
        if not 1 <= self.tables <= self.substrings:
            raise ValueError(f"tables must be within 1…{self.substrings}")
        self.exact = self.tables == self.substrings
        limit = 3 * self.substrings - 1 if self.exact else bits
        self.max_radius = limit if radius is None else int(radius)
        if not 0 <= self.max_radius <= limit:
            raise ValueError(f"radius must be within 0…{limit}")
        self._layouts = self._candidate_layouts()
        self._layout = self._layouts[0]  # 16-bit substrings until a merge picks for the index's size
        # the key blocks' bits (a key-block match is also checked over them): a mask per word
        key_bits = self.tables * 16
        self._key_mask = np.array([(1 << max(0, min(64, key_bits - 64 * i))) - 1 for i in range(self._nwords)],
                                  dtype=np.uint64)
        self._ids = np.zeros(0, np.int64)
        self._words = np.zeros((0, self._nwords), np.uint64)
        self._offsets = np.zeros(self._layout.offset_bytes // 4, np.int32)
        self._rows = np.zeros((self.tables, 0), np.int32)
        self._delta_ids: list[NDArray[np.int64]] = []
        self._delta_rows: list[NDArray[np.uint8]] = []
        self._delta_n = 0
        self._delta_cache: tuple[NDArray[np.int64], NDArray[np.uint64]] | None = None

    def _candidate_layouts(self) -> list[_Layout]:
        """The layouts this index may use: 16-bit substrings first, then longer ones still exact at
        ``max_radius`` (probed within ≤ 2 bits). A key-block index keeps its 16-bit blocks."""
        first = _Layout(self.bits, self.substrings, self.tables)
        if not self.exact:
            return [first]
        longer = [_Layout(self.bits, m) for m in range(self.substrings - 1, 0, -1)
                  if -(-self.bits // m) <= _MAX_BITS and 3 * m - 1 >= self.max_radius]
        return [first, *longer]

    @property
    def layout(self) -> tuple[int, ...]:
        """The substring lengths in use (bits)."""
        return self._layout.widths

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
        if self._delta_n >= _MERGE_AT:
            self.merge()

    def _pick_layout(self, n: int) -> _Layout:
        budget = max(self._layouts[0].offset_bytes, _OFFSET_BYTES_PER_ENTRY * n)
        fits = [lay for lay in self._layouts if lay.offset_bytes <= budget]
        return min(fits, key=lambda lay: lay.cost(n, self.max_radius))

    def merge(self) -> None:
        """Move the delta into the main segment. While the index's size keeps its layout, the delta's rows
        are sorted alone and inserted at their buckets' ends (linear copies, no sort of the whole); a new
        layout rebuilds every table."""
        if not self._delta_n:
            return
        new_ids = np.concatenate(self._delta_ids)
        new_words = self._to_words(np.concatenate(self._delta_rows))
        self._delta_ids, self._delta_rows, self._delta_n, self._delta_cache = [], [], 0, None
        old_n = len(self._ids)
        n = old_n + len(new_ids)
        if n >= 2**31:
            raise ValueError("an index holds fewer than 2**31 entries")
        self._ids = np.concatenate([self._ids, new_ids])
        self._words = np.concatenate([self._words, new_words])
        lay = self._pick_layout(n)
        if old_n and lay is self._layout:
            rows = np.empty((lay.tables, n), np.int32)
            for t in range(lay.tables):
                keys, order, counts = _sorted_keys(lay, new_words, t)
                start, end = int(lay.base[t]), int(lay.base[t + 1])
                at = self._offsets[start + 1:end][keys[order]]  # each new row goes after its bucket's last
                rows[t] = np.insert(self._rows[t], at, (order + old_n).astype(np.int32))
                self._offsets[start + 1:end] += np.cumsum(counts).astype(np.int32)
            self._rows = rows
            return
        self._layout = lay
        self._rows = np.empty((lay.tables, n), np.int32)
        self._offsets = np.empty(int(lay.base[-1]), np.int32)
        for t in range(lay.tables):
            _, self._rows[t], counts = _sorted_keys(lay, self._words, t)
            start = int(lay.base[t])
            self._offsets[start] = 0
            self._offsets[start + 1: start + 1 + len(counts)] = np.cumsum(counts)

    def _to_words(self, rows: NDArray[np.uint8]) -> NDArray[np.uint64]:
        return np.ascontiguousarray(rows).view(np.uint64).reshape(-1, self._nwords)

    def _delta(self) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
        if self._delta_cache is None:
            if self._delta_n:
                self._delta_cache = (np.concatenate(self._delta_ids),
                                     self._to_words(np.concatenate(self._delta_rows)))
            else:
                self._delta_cache = (np.zeros(0, np.int64), np.zeros((0, self._nwords), np.uint64))
        return self._delta_cache

    def _within(self, words: NDArray[np.uint64], q_words: NDArray[np.uint64], pair_e: NDArray[np.int64],
                pair_q: NDArray[np.int64], radius: int,
                key_radius: int | None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The (entry, query) pairs within ``radius`` (and ``key_radius`` over the key blocks): their entry
        indices and distances. Word by word (1-D takes are the fast ones), the key blocks' words first when
        a key radius applies, then the first `_PREFILTER_WORDS`, then the rest only for the pairs still
        within the radius."""
        def xor(i: int, e: NDArray[np.int64], q: NDArray[np.int64]) -> NDArray[np.uint64]:
            return np.ascontiguousarray(words[:, i])[e] ^ np.ascontiguousarray(q_words[:, i])[q]

        done: list[int] = []
        d = np.zeros(len(pair_e), np.int64)
        if key_radius is not None:
            key_words = [i for i in range(self._nwords) if self._key_mask[i]]
            kd = np.zeros(len(pair_e), np.int64)
            for i in key_words:
                x = xor(i, pair_e, pair_q)
                kd += np.bitwise_count(x & self._key_mask[i])
                d += np.bitwise_count(x)
            keep = kd <= key_radius
            pair_e, pair_q, d = pair_e[keep], pair_q[keep], d[keep]
            done = key_words
        for i in range(self._nwords):
            if i in done:
                continue
            d += np.bitwise_count(xor(i, pair_e, pair_q))
            done.append(i)
            if len(done) >= _PREFILTER_WORDS or len(done) == self._nwords:
                keep = d <= radius
                pair_e, pair_q, d = pair_e[keep], pair_q[keep], d[keep]
        return pair_e, d

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
        q_rows = _as_rows(queries if isinstance(queries, bytes) else list(queries), self.nbytes_hash)
        if not len(q_rows):
            return []
        q_words = self._to_words(q_rows)
        found_ids: list[NDArray[np.int64]] = []
        found_d: list[NDArray[np.int64]] = []
        if len(self._ids):
            e, d = self._search_main(q_words, radius, key_radius)
            found_ids.append(self._ids[e])
            found_d.append(d)
        d_ids, d_words = self._delta()
        if len(d_ids):
            e, d = self._search_delta(d_words, q_words, radius, key_radius)
            found_ids.append(d_ids[e])
            found_d.append(d)
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

    def _search_main(self, q_words: NDArray[np.uint64], radius: int,
                     key_radius: int | None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        lay = self._layout
        k = len(q_words)
        depth = radius // lay.m if self.exact else 0
        # every (query, table, neighbour) probe as a position in the concatenated offset tables
        flat_parts, q_parts = [], []
        for t in range(lay.tables):
            flips = _flips(lay.widths[t], depth)
            flat_parts.append((lay.base[t] + (lay.keys(q_words, t)[:, None] ^ flips[None, :])).ravel())
            q_parts.append(np.repeat(np.arange(k), len(flips)))
        flat = np.concatenate(flat_parts)
        qidx = np.concatenate(q_parts)
        probes, inv = np.unique(flat, return_inverse=True)  # each bucket read once …
        starts = self._offsets[probes].astype(np.int64)
        lengths = self._offsets[probes + 1] - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        table = np.searchsorted(lay.base, probes, side="right") - 1
        probe_of = np.repeat(np.arange(len(probes)), lengths)
        cols = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths) + starts[probe_of]
        cand = self._rows.ravel()[table[probe_of] * len(self._ids) + cols]  # row number of each candidate
        words = self._words[cand]  # one (random) read per candidate row …
        if len(qidx) == len(probes):  # one query per bucket (a single query's search)
            q_of_probe = np.empty(len(probes), np.int64)
            q_of_probe[inv] = qidx
            pair_c, pair_q = np.arange(total), q_of_probe[probe_of]
        else:  # … then compared with every query that probed its bucket
            q_sorted = qidx[np.argsort(inv, kind="stable")]
            n_q = np.bincount(inv, minlength=len(probes))
            reps = n_q[probe_of]
            pair_c = np.repeat(np.arange(total), reps)
            first = np.repeat((np.cumsum(n_q) - n_q)[probe_of], reps)
            pair_q = q_sorted[first + np.arange(len(pair_c)) - np.repeat(np.cumsum(reps) - reps, reps)]
        c, d = self._within(words, q_words, pair_c, pair_q, radius, key_radius)
        return cand[c].astype(np.int64), d

    def _search_delta(self, d_words: NDArray[np.uint64], q_words: NDArray[np.uint64], radius: int,
                      key_radius: int | None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        k = len(q_words)
        if self.exact:
            entries = np.arange(len(d_words))
        else:  # only delta entries sharing a key block with some query: a 65,536-entry mask per table
            subs = np.ascontiguousarray(d_words).view(np.uint16).reshape(len(d_words), self.substrings)
            q_sub = np.ascontiguousarray(q_words).view(np.uint16).reshape(k, self.substrings)[:, :self.tables]
            hit = np.zeros((self.tables, 1 << 16), bool)
            hit[np.arange(self.tables)[None, :].repeat(k, 0), q_sub] = True
            entries = np.flatnonzero(hit[np.arange(self.tables)[None, :], subs[:, :self.tables]].any(axis=1))
        return self._within(d_words, q_words, entries.repeat(k), np.tile(np.arange(k), len(entries)),
                            radius, key_radius)

    def search(self, query: bytes, radius: int) -> list[tuple[int, int]]:
        """Entries within ``radius`` bits of ``query`` as (id, distance), nearest first (ties: lower id).

        Exact (no entry within the radius is missed) for ``radius ≤ max_radius``. A key-block index answers
        as `search_many` does.
        """
        return self.search_many([query], radius)
