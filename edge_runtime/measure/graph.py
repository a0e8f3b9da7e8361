"""A skeleton as a graph: its links, end points, branch points and the segments between them.

Neighbouring skeleton pixels are linked (8-connectivity), 1 pixel apart side by side and
sqrt(2) diagonally: every pair of neighbours, diagonal ones too where the two pixels also meet
through a common side neighbour (a triangle, which the minimal skeleton leaves only at
junctions). A pixel with one link is an end point; a pixel with three or more is a junction,
and junction pixels that touch make one branch point. What is left when the junctions are
taken out falls into segments: the vessel pieces between two end or branch points.
"""

from dataclasses import dataclass

import numpy as np

from edge_runtime.cached import cached_property
from edge_runtime.measure.grid import FORWARD, RING, Grid, components

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


def skeleton_links(grid: Grid, index: np.ndarray, codes: np.ndarray) -> Links:
    """The links of the skeleton a :class:`Grid` holds, whose pixels are ``index`` (flat,
    ascending: all its set pixels) with ring codes ``codes``
    (:meth:`~edge_runtime.measure.grid.Grid.codes`)."""
    first, second, length = [], [], []
    for dy, dx in FORWARD:
        mine = np.flatnonzero(codes & (1 << RING.index((dy, dx))))
        first.append(mine)
        second.append(np.searchsorted(index, index[mine] + grid.offset(dy, dx)))
        length.append(np.full(len(mine), SQRT2 if dy and dx else 1.0))
    return Links(index, *(np.concatenate(parts) for parts in (first, second, length)))


@dataclass(frozen=True)
class Segments:
    """The segments of a skeleton that have two ends, each as its pixels in order from one end
    to the other: segment ``i`` is ``points[bounds[i]:bounds[i + 1]]`` ((n, 2) y, x); and
    which are ``loops`` (none where not given): both ends at one junction (a ring hung from a
    vessel), or at the same two junctions as another segment's (the two halves of a ring along
    a vessel, where its centre line splits in two and joins again)."""

    points: np.ndarray
    bounds: np.ndarray
    loops: np.ndarray | None = None

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
    def looped(self) -> np.ndarray:
        """Whether each segment is one of the :attr:`loops`."""
        count = len(self.bounds) - 1
        return np.zeros(count, dtype=bool) if self.loops is None else self.loops

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
    index = grid.set_pixels()
    return graph_of(grid, index, grid.codes(index))


def graph_of(grid: Grid, index: np.ndarray, codes: np.ndarray) -> SkeletonGraph:
    """The graph of the skeleton a :class:`Grid` holds, whose pixels are ``index`` (flat,
    ascending: all its set pixels) with ring codes ``codes``."""
    links = skeleton_links(grid, index, codes)
    degree = links.degree
    ys, xs = grid.coordinates(links.index)
    points = np.column_stack([ys, xs])
    junction = degree >= 3
    cluster = _cluster_labels(links, junction)
    pixels, bounds = _segments(links, ~junction)
    return SkeletonGraph(
        points=points,
        length=float(links.length.sum()),
        end_points=points[degree == 1],
        branch_points=_centres(points, cluster),
        segments=Segments(points[pixels], bounds, _loops(links, cluster, pixels, bounds)),
    )


def _within(links: Links, member: np.ndarray) -> np.ndarray:
    """Which links join two pixels of ``member`` (a boolean per pixel)."""
    return member[links.first] & member[links.second]


def _cluster_labels(links: Links, member: np.ndarray) -> np.ndarray:
    """Which group of touching ``member`` pixels each pixel is in (-1 for the others)."""
    where = np.flatnonzero(member)
    label = np.full(len(member), -1)
    if len(where):
        local = np.full(len(member), -1)
        local[where] = np.arange(len(where))
        inside = _within(links, member)
        first, second = local[links.first[inside]], local[links.second[inside]]
        label[where] = components(len(where), first, second)
    return label


def _centres(points: np.ndarray, label: np.ndarray) -> np.ndarray:
    """The centre (y, x) of each group of pixels (``label``; -1 for a pixel in none)."""
    grouped = label >= 0
    count = np.bincount(label[grouped])
    if not len(count):
        return np.zeros((0, 2))
    sums = [np.bincount(label[grouped], weights=points[grouped, k]) for k in (0, 1)]
    return np.column_stack([total / count for total in sums])


def _loops(links: Links, cluster: np.ndarray, pixels: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Whether each segment (its ``pixels`` in order, split by ``bounds``) closes a ring: both
    its ends linked to one group of junction pixels (``cluster``: -1 outside any), or to the
    same two groups as another segment's ends.

    A segment's end pixel is no junction (two links at most) and one of its links runs along
    the segment, so it is linked to one group at most.
    """
    near = np.concatenate([links.first, links.second])
    far = cluster[np.concatenate([links.second, links.first])]
    outside = (cluster[near] < 0) & (far >= 0)
    group = np.full(len(cluster), -1)
    group[near[outside]] = far[outside]
    ends = np.sort(np.column_stack([group[pixels[bounds[:-1]]], group[pixels[bounds[1:] - 1]]]))
    pair = ends[:, 0] * (int(cluster.max(initial=-1)) + 1) + ends[:, 1]  # as a number
    _, which, count = np.unique(pair, return_inverse=True, return_counts=True)
    return (ends[:, 0] >= 0) & ((ends[:, 0] == ends[:, 1]) | (count[which] > 1))


def _segments(links: Links, member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of ``member`` pixels that are paths with two ends (not a closed loop, not a
    single pixel), each in order from its end of lower index to the other, the pieces in the
    order of those ends.

    Vectorised over all pieces at once: each link is taken both ways (an arc), and each arc is
    followed by the arc that leaves its head pixel by the other link (or turns back at an end).
    Cut before every arc that leaves an end, this makes two chains of each path, one each way,
    and leaves closed loops uncut. The chains are ranked by pointer jumping (each arc's distance
    to its chain's last arc, doubling the jump each round) until a round brings no more arcs to
    the last of their chain: after k rounds every arc up to 2**k from it is there, so such a
    round means all are (a closed loop's arcs never are). The chain from each path's lower end
    is the piece in order. Returns the pieces' pixels (positions in ``links.index``) one piece
    after the other, and where each starts (and the last ends).
    """
    where = np.flatnonzero(member)
    local = np.full(len(member), -1)
    local[where] = np.arange(len(where))
    inside = _within(links, member)
    first, second = local[links.first[inside]], local[links.second[inside]]
    source = np.concatenate([first, second])
    target = np.concatenate([second, first])
    arcs = np.arange(len(source))
    out_first, out_last = np.full(len(where), -1), np.full(len(where), -1)
    out_last[source] = arcs
    out_first[source[::-1]] = arcs[::-1]
    follow = out_first[target]
    follow = np.where(target[follow] == source, out_last[target], follow)
    head = np.bincount(source, minlength=len(where))[source] == 1  # the arc leaves an end
    last = head[follow]
    follow[last] = arcs[last]
    rank = (~last).astype(np.int64)  # arcs from each arc to its chain's last
    reached = np.count_nonzero(last[follow])
    while True:
        ahead = follow[follow]
        now = np.count_nonzero(last[ahead])
        if now == reached:
            break
        rank += rank[follow]
        follow, reached = ahead, now
    starts = np.flatnonzero(head)
    starts = starts[source[starts] < target[follow[starts]]]  # the chains from a lower end
    starts = starts[np.argsort(source[starts])]
    bounds = np.concatenate([[0], np.cumsum(rank[starts] + 2)])
    last_at = np.full(len(arcs), -1)  # where the last arc of each chain taken goes in order
    last_at[follow[starts]] = bounds[:-1] + rank[starts]
    last_at = last_at[follow]
    along = np.flatnonzero(last_at >= 0)
    position = last_at[along] - rank[along]
    order = np.empty(bounds[-1], dtype=np.int64)
    order[position] = source[along]
    order[position + 1] = target[along]
    return where[order], bounds
