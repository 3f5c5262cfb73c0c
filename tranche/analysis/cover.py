"""Covering a set of classes exactly with few, general statements.

The input is a set of disjoint cubes of the request domain (the pieces of a decision
diagram with one answer) and the pieces with every other answer; the output is a list of
statements, each a cube minus exception cubes, that together cover exactly the first set.
Coverage is exact by construction; the number of statements is kept low by merging,
growing cubes to maximal ones, and greedily replacing pairs by their hull minus what it
must not cover (minimising is NP-hard: this is a heuristic, exactness is not).
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from .classes import Cube

__all__ = ["Statement", "cover", "merge", "intersects", "within", "GREEDY_LIMIT", "PAIR_DIMENSIONS", "EXPAND_BUDGET"]

#
# Inside the cover, a cube is packed into one integer: each dimension's mask in its own bit
# field, with a zero guard bit above each field.  Adding a constant with every field's bits set
# carries into a field's guard bit exactly when the field is not empty, so "do two cubes meet
# in every dimension (but d)" is three integer operations, whatever the number of dimensions.


class _Layout:
    def __init__(self, bound: Cube) -> None:
        self.n = len(bound)
        self.offsets: list[int] = []
        self.widths: list[int] = []
        off = 0
        guards = fill = 0
        for m in bound:
            w = max(1, m.bit_length())
            self.offsets.append(off)
            self.widths.append(w)
            fill |= ((1 << w) - 1) << off
            guards |= 1 << (off + w)
            off += w + 1
        self.fill = fill
        self.guards = guards
        self.fields = [((1 << w) - 1) << o for w, o in zip(self.widths, self.offsets)]
        self.guard = [1 << (o + w) for w, o in zip(self.widths, self.offsets)]
        self.bound = self.pack(bound)

    def pack(self, cube: Cube) -> int:
        out = 0
        for m, o in zip(cube, self.offsets):
            out |= m << o
        return out

    def unpack(self, packed: int) -> Cube:
        return tuple((packed >> o) & ((1 << w) - 1) for o, w in zip(self.offsets, self.widths))

    def nonempty(self, packed: int) -> int:
        """The guard bits of the fields of ``packed`` that are not empty."""
        return (packed + self.fill) & self.guards

    def meets(self, a: int, b: int) -> bool:
        return self.nonempty(a & b) == self.guards

    def merge(self, cubes: Iterable[int], prune: bool = False) -> list[int]:
        """Union cubes that differ in one field only, until none do (``prune``: drop contained cubes)."""
        current = set(cubes)
        changed = True
        while changed and len(current) > 1:
            changed = False
            for f in self.fields:
                groups: dict[int, int] = {}
                for c in current:
                    key = c & ~f
                    groups[key] = groups.get(key, 0) | (c & f)
                if len(groups) < len(current):
                    changed = True
                    current = {k | m for k, m in groups.items()}
        ordered = sorted(current)
        return _prune(ordered) if prune else ordered

    def expand(self, cubes: Sequence[int], forbidden: Sequence[int], bound: int) -> list[int]:
        """Grow each cube, one dimension at a time (last first), while it meets no forbidden cube."""
        return _Obstacles(self, forbidden).expand(cubes, bound)


class _Obstacles:
    """Forbidden cubes indexed by field and value: a bitset of the cubes holding each value.

    The forbidden cubes meeting a cube in every dimension but one are then an AND of cached
    bitsets, which makes growing cubes cheap however many forbidden cubes there are.
    """

    def __init__(self, layout: _Layout, forbidden: Sequence[int]) -> None:
        self.layout = layout
        self.forbidden = list(forbidden)
        n, offsets = layout.n, layout.offsets
        self.wmask = [(1 << w) - 1 for w in layout.widths]
        self.per_value: list[dict[int, int]] = [{} for _ in range(n)]
        self.whole = [0] * n  # per field: the cubes whole in it (they meet every value)
        full = [(layout.bound >> offsets[e]) & self.wmask[e] for e in range(n)]
        for e in range(n):
            groups: dict[int, int] = {}  # field mask -> the cubes with it
            shift, wm = offsets[e], self.wmask[e]
            for i, q in enumerate(self.forbidden):
                m = (q >> shift) & wm
                groups[m] = groups.get(m, 0) | (1 << i)
            table = self.per_value[e]
            for m, cubes in groups.items():
                if m == full[e]:
                    self.whole[e] |= cubes
                    continue
                while m:
                    low = m & -m
                    v = low.bit_length() - 1
                    table[v] = table.get(v, 0) | cubes
                    m ^= low
        self.cache: dict[tuple[int, int], int] = {}
        self.everything = (1 << len(self.forbidden)) - 1

    def meeting(self, e: int, m: int) -> int:
        """The forbidden cubes whose field ``e`` meets the value mask ``m`` (a bitset)."""
        found = self.cache.get((e, m))
        if found is None:
            found = self.whole[e] if m else 0
            table = self.per_value[e]
            rest = m
            while rest:
                low = rest & -rest
                found |= table.get(low.bit_length() - 1, 0)
                rest ^= low
            self.cache[(e, m)] = found
        return found

    def meeting_cube(self, cube: int) -> list[int]:
        """The forbidden cubes that meet ``cube`` (share a request with it)."""
        lay = self.layout
        cand = self.everything
        for e in range(lay.n):
            cand &= self.meeting(e, (cube >> lay.offsets[e]) & self.wmask[e])
            if not cand:
                return []
        out = []
        while cand:
            low = cand & -cand
            out.append(self.forbidden[low.bit_length() - 1])
            cand ^= low
        return out

    def expand(self, cubes: Sequence[int], bound: int) -> list[int]:
        """Grow each cube, one dimension at a time (last first), within ``bound``, meeting no forbidden cube."""
        lay = self.layout
        n, offsets, wmask = lay.n, lay.offsets, self.wmask
        bounds = [(bound >> offsets[d]) & wmask[d] for d in range(n)]
        out: list[int] = []
        for cur in cubes:
            fields = [(cur >> offsets[e]) & wmask[e] for e in range(n)]
            meet = [self.meeting(e, fields[e]) for e in range(n)]
            for d in range(n - 1, -1, -1):
                if not bounds[d] & ~fields[d]:
                    continue  # already whole in this dimension
                cand = self.everything
                for e in range(n):
                    if e != d:
                        cand &= meet[e]
                        if not cand:
                            break
                block = 0
                while cand:
                    low = cand & -cand
                    block |= self.forbidden[low.bit_length() - 1]
                    cand ^= low
                grown = fields[d] | (bounds[d] & ~((block >> offsets[d]) & wmask[d]))
                if grown != fields[d]:
                    fields[d] = grown
                    meet[d] = self.meeting(d, grown)
            packed = 0
            for e in range(n):
                packed |= fields[e] << offsets[e]
            out.append(packed)
        return _prune(sorted(set(out)))


def _prune(cubes: list[int]) -> list[int]:
    """Drop the packed cubes contained in another one."""
    if len(cubes) < 2:
        return cubes
    by_size = sorted(cubes, key=lambda c: -c.bit_count())
    kept: list[int] = []
    for c in by_size:
        if not any(not c & ~k for k in kept):
            kept.append(c)
    return sorted(kept)


def intersects(a: Cube, b: Cube) -> bool:
    """True when two cubes share a request."""
    for x, y in zip(a, b):
        if not x & y:
            return False
    return True


def within(a: Cube, b: Cube) -> bool:
    """True when cube ``a`` lies inside cube ``b``."""
    for x, y in zip(a, b):
        if x & ~y:
            return False
    return True


def merge(cubes: Iterable[Cube], prune: bool = True) -> list[Cube]:
    """Exact union of cubes that differ in one dimension only, until none do; drop contained cubes."""
    cubes = list(cubes)
    if not cubes:
        return []
    bound = tuple(_or_all(c[d] for c in cubes) for d in range(len(cubes[0])))
    lay = _Layout(bound)
    return [lay.unpack(c) for c in lay.merge((lay.pack(c) for c in cubes), prune=prune)]


def _or_all(masks: Iterable[int]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


GREEDY_LIMIT = 30  # statements above which pairs are not tried for merging
PAIR_DIMENSIONS = 3  # pairs of statements differing in more dimensions are not tried
EXPAND_BUDGET = 400_000  # (cubes + forbidden cubes) x dimensions allowed per expansion

Statement = tuple[Cube, tuple[Cube, ...]]  # a cube minus exception cubes


def cover(inside: Sequence[Cube], outside: Sequence[Cube], bound: Cube,
          size: Callable[[Cube], int] | None = None, *, merged_outside: bool = False) -> list[Statement]:
    """Few, general statements covering exactly ``inside`` (disjoint from ``outside``; together: ``bound``).

    A statement is a cube minus exception cubes, and covers only what is inside.  Start from
    the pieces merged and grown to maximal cubes; then, greedily, replace two statements by
    the smallest cube holding both minus the outside pieces within it (dropping statements it
    swallows) while that lowers the cost: statements plus exceptions, then statements, then
    ``size`` (how much there is to read).
    """
    if not inside:
        return []
    lay = _Layout(bound)
    weigh = size or (lambda c: 0)
    merged = lay.merge(lay.pack(c) for c in inside)
    out_packed = [lay.pack(c) for c in outside]
    out_merged = out_packed if merged_outside else lay.merge(out_packed)
    sizes: dict[int, int] = {}

    def size_of(c: int) -> int:
        found = sizes.get(c)
        if found is None:
            found = sizes[c] = weigh(lay.unpack(c))
        return found

    def cost(statements: Sequence[tuple[int, tuple[int, ...]]]) -> tuple[int, int, int]:
        return (sum(1 + len(e) for _, e in statements), len(statements),
                sum(size_of(c) + sum(size_of(x) for x in e) for c, e in statements))

    exceptions_cache: dict[int, tuple[int, ...]] = {}
    obstacles: dict[str, _Obstacles] = {}

    def clear_of(name: str, cubes: Sequence[int]) -> _Obstacles:
        found = obstacles.get(name)
        if found is None:
            found = obstacles[name] = _Obstacles(lay, cubes)
        return found

    def affordable(n_cubes: int, n_forbidden: int) -> bool:
        return (n_cubes + n_forbidden) * lay.n <= EXPAND_BUDGET

    def exceptions(hull: int) -> tuple[int, ...]:
        found = exceptions_cache.get(hull)
        if found is None:
            exc = lay.merge(q & hull for q in clear_of("outside", out_merged).meeting_cube(hull))
            if exc and affordable(len(exc), len(merged)):
                exc = lay.merge(clear_of("inside", merged).expand(exc, hull))
            found = exceptions_cache[hull] = tuple(exc)
        return found

    current: list[tuple[int, tuple[int, ...]]] = [(c, ()) for c in merged]
    if len(merged) > 1 and affordable(len(merged), len(out_merged)):
        grown: list[tuple[int, tuple[int, ...]]] = [
            (c, ()) for c in lay.merge(clear_of("outside", out_merged).expand(merged, lay.bound))]
        if cost(grown) <= cost(current):
            current = grown
    fields = lay.fields

    def apart(a: int, b: int) -> int:
        """In how many dimensions two cubes differ."""
        x = a ^ b
        return sum(1 for f in fields if x & f)

    while 1 < len(current) <= GREEDY_LIMIT:
        best: list[tuple[int, tuple[int, ...]]] | None = None
        best_delta = (0, 0, 0)
        tried: set[int] = set()
        for i in range(len(current)):
            for j in range(i + 1, len(current)):
                hull = current[i][0] | current[j][0]
                if hull in tried or apart(current[i][0], current[j][0]) > PAIR_DIMENSIONS:
                    continue
                tried.add(hull)
                swallowed = [st for st in current if not st[0] & ~hull]
                exc = exceptions(hull)
                delta = (1 + len(exc) - sum(1 + len(e) for _, e in swallowed), 1 - len(swallowed),
                         size_of(hull) + sum(size_of(x) for x in exc)
                         - sum(size_of(c) + sum(size_of(x) for x in e) for c, e in swallowed))
                if delta < best_delta:
                    best_delta = delta
                    best = [st for st in current if st[0] & ~hull] + [(hull, exc)]
        if best is None:
            break
        current = best
    if len(current) > 1:
        hull = _or_all(c for c, _ in current)
        whole = [(hull, exceptions(hull))]
        if cost(whole) < cost(current):
            current = whole
    return [(lay.unpack(c), tuple(lay.unpack(e) for e in exc)) for c, exc in current]
