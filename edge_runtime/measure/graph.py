"""A skeleton as a graph: its links, end points, branch points and the segments between them.

Neighbouring skeleton pixels are linked (8-connectivity), 1 pixel apart side by side and
sqrt(2) diagonally; a diagonal link is left out where the two pixels also meet through a common
side neighbour (it would close a triangle and count the same step twice). A pixel with one link
is an end point; a pixel with three or more is a junction, and junction pixels that touch make
one branch point. What is left when the junctions are taken out falls into segments: the
vessel pieces between two end or branch points.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from edge_runtime.measure.grid import FORWARD, Grid, components, neighbour_pairs

SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class Links:
    """The links of a skeleton: pixels ``index`` (flat, in a :class:`Grid`), and for each link
    its two pixels (positions in ``index``) and its length."""

    index: np.ndarray
    first: np.ndarray
    second: np.ndarray
    length: np.ndarray

    @property
    def degree(self) -> np.ndarray:
        """Links per pixel."""
        return np.bincount(np.concatenate([self.first, self.second]), minlength=len(self.index))


def skeleton_links(grid: Grid, index: np.ndarray) -> Links:
    """The links of the skeleton a :class:`Grid` holds, whose pixels are ``index`` (flat,
    ascending)."""
    first, second = neighbour_pairs(grid, index)
    step = index[second] - index[first]
    diagonal = {grid.offset(dy, dx): (dy, dx) for dy, dx in FORWARD if dy and dx}
    keep = np.ones(len(first), dtype=bool)
    for offset, (dy, dx) in diagonal.items():
        here = step == offset
        corner = index[first[here]]
        keep[here] = ~(grid.flat[corner + grid.offset(0, dx)] | grid.flat[corner + dy * grid.width])
    first, second, step = first[keep], second[keep], step[keep]
    side = (step == grid.offset(0, 1)) | (step == grid.offset(1, 0))
    return Links(index, first, second, np.where(side, 1.0, SQRT2))


@dataclass(frozen=True)
class Segments:
    """The segments of a skeleton that have two ends, each as its pixels in order from one end
    to the other: segment ``i`` is ``points[bounds[i]:bounds[i + 1]]`` ((n, 2) y, x)."""

    points: np.ndarray
    bounds: np.ndarray

    @cached_property
    def member(self) -> np.ndarray:
        """The segment each pixel of ``points`` belongs to."""
        return np.repeat(np.arange(len(self.bounds) - 1), np.diff(self.bounds))

    @cached_property
    def along(self) -> np.ndarray:
        """Length along ``points`` from the first to each (steps of 1 or sqrt(2) within a
        segment, none from one segment to the next)."""
        step = np.hypot(*np.diff(self.points, axis=0).T) if len(self.points) else np.zeros(0)
        step[self.bounds[1:-1] - 1] = 0.0
        return np.concatenate([[0.0], np.cumsum(step)])

    def arc_between(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Length along the segments from pixel ``first[i]`` to pixel ``last[i]`` (positions in
        ``points``, in one segment)."""
        return self.along[last] - self.along[first]

    def chord_between(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Straight distance from pixel ``first[i]`` to pixel ``last[i]``."""
        return np.hypot(*(self.points[last] - self.points[first]).T)

    @cached_property
    def arc(self) -> np.ndarray:
        """Length along each segment (pixels)."""
        return self.arc_between(self.bounds[:-1], self.bounds[1:] - 1)

    @cached_property
    def chord(self) -> np.ndarray:
        """Straight distance between each segment's two end pixels (pixels)."""
        return self.chord_between(self.bounds[:-1], self.bounds[1:] - 1)


@dataclass(frozen=True)
class SkeletonGraph:
    """What a skeleton holds: its pixels (``points``, (n, 2) y, x, row after row), its total
    ``length`` (pixels), ``end_points`` and ``branch_points`` ((n, 2) y, x; a branch point is
    the centre of its junction pixels), and the ``segments`` that have two ends, in order
    along each."""

    points: np.ndarray
    length: float
    end_points: np.ndarray
    branch_points: np.ndarray
    segments: Segments


def skeleton_graph(skeleton: np.ndarray) -> SkeletonGraph:
    """The graph of a boolean (H, W) skeleton (see
    :func:`~edge_runtime.measure.skeleton.skeletonize`)."""
    grid = Grid.of(skeleton)
    return graph_of(grid, grid.set_pixels())


def graph_of(grid: Grid, index: np.ndarray) -> SkeletonGraph:
    """The graph of the skeleton a :class:`Grid` holds, whose pixels are ``index`` (flat,
    ascending)."""
    links = skeleton_links(grid, index)
    degree = links.degree
    ys, xs = grid.coordinates(links.index)
    points = np.column_stack([ys, xs])
    junction = degree >= 3
    return SkeletonGraph(
        points=points,
        length=float(links.length.sum()),
        end_points=points[degree == 1],
        branch_points=_clusters(points, links, junction),
        segments=_segments(points, links, ~junction),
    )


def _within(links: Links, member: np.ndarray) -> np.ndarray:
    """Which links join two pixels of ``member`` (a boolean per pixel)."""
    return member[links.first] & member[links.second]


def _clusters(points: np.ndarray, links: Links, member: np.ndarray) -> np.ndarray:
    """The centre (y, x) of each group of touching ``member`` pixels."""
    where = np.flatnonzero(member)
    if not len(where):
        return np.zeros((0, 2))
    local = np.full(len(points), -1)
    local[where] = np.arange(len(where))
    inside = _within(links, member)
    label = components(len(where), local[links.first[inside]], local[links.second[inside]])
    count = np.bincount(label)
    return np.column_stack([np.bincount(label, weights=points[where, k]) / count for k in (0, 1)])


def _segments(points: np.ndarray, links: Links, member: np.ndarray) -> Segments:
    """The pieces of ``member`` pixels that are paths with two ends (not a closed loop, not a
    single pixel), each in order from its end of lower index to the other.

    Vectorised over all pieces at once: each link is taken both ways (an arc), each arc is
    followed by the arc that leaves its head pixel by the other link (or turns back at an end),
    which makes a closed tour of each piece; cut before the arc that leaves the piece's first
    end, the tours are ranked by pointer jumping (each arc's distance to its tour's end,
    doubling the jump each round), and the first half of each tour is the piece in order.
    """
    where = np.flatnonzero(member)
    local = np.full(len(points), -1)
    local[where] = np.arange(len(where))
    inside = _within(links, member)
    first, second = local[links.first[inside]], local[links.second[inside]]
    label = components(len(where), first, second)
    degree = np.bincount(np.concatenate([first, second]), minlength=len(where))
    pieces = label.max() + 1 if len(label) else 0
    ends = np.flatnonzero(degree == 1)
    two = np.bincount(label[ends], minlength=pieces) == 2
    keep = two[label[first]]
    source = np.concatenate([first[keep], second[keep]])
    target = np.concatenate([second[keep], first[keep]])
    arcs = np.arange(len(source))
    out_first, out_last = np.full(len(where), -1), np.full(len(where), -1)
    out_last[source] = arcs
    out_first[source[::-1]] = arcs[::-1]
    follow = out_first[target]
    follow = np.where(target[follow] == source, out_last[target], follow)
    start_end = np.full(pieces, len(where))
    np.minimum.at(start_end, label[ends], ends)
    head = np.zeros(len(arcs), dtype=bool)
    head[out_first[start_end[two]]] = True
    last = head[follow]
    follow[last] = arcs[last]
    rank = (~last).astype(np.int64)  # arcs from each arc to its tour's last
    while len(arcs) and not np.array_equal(follow[follow], follow):
        rank += rank[follow]
        follow = follow[follow]
    links_in = np.bincount(label[source], minlength=pieces)[label[source]] // 2
    position = 2 * links_in - 1 - rank  # from the start end along the tour
    forward = position < links_in
    lengths = np.bincount(label[source[forward]], minlength=pieces)[two] + 1
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    offset = np.zeros(pieces, dtype=np.int64)
    offset[two] = bounds[:-1]
    order = np.empty(bounds[-1], dtype=np.int64)
    order[offset[label[source[forward]]] + position[forward]] = source[forward]
    far = forward & (position == links_in - 1)
    order[offset[label[target[far]]] + links_in[far]] = target[far]
    return Segments(points[where[order]], bounds)
