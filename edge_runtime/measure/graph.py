"""A skeleton as a graph: its links, end points, branch points and the segments between them.

Neighbouring skeleton pixels are linked (8-connectivity), 1 pixel apart side by side and
sqrt(2) diagonally; a diagonal link is left out where the two pixels also meet through a common
side neighbour (it would close a triangle and count the same step twice). A pixel with one link
is an end point; a pixel with three or more is a junction, and junction pixels that touch make
one branch point. What is left when the junctions are taken out falls into segments: the
vessel pieces between two end or branch points.
"""

from dataclasses import dataclass

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
    is_diagonal = np.isin(step, list(diagonal))
    return Links(index, first, second, np.where(is_diagonal, SQRT2, 1.0))


@dataclass(frozen=True)
class SkeletonGraph:
    """What a skeleton holds: its pixels (``points``, (n, 2) y, x, row after row), its total
    ``length`` (pixels), ``end_points`` and ``branch_points`` ((n, 2) y, x; a branch point is
    the centre of its junction pixels), and the segments that have two ends: ``segment_arc``
    (length along it) and ``segment_chord`` (straight distance between its two end pixels), in
    pixels."""

    points: np.ndarray
    length: float
    end_points: np.ndarray
    branch_points: np.ndarray
    segment_arc: np.ndarray
    segment_chord: np.ndarray


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
        **_segments(points, links, ~junction),
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


def _segments(points: np.ndarray, links: Links, member: np.ndarray) -> dict[str, np.ndarray]:
    """Arc and chord of each piece of ``member`` pixels that is a path with two ends (a closed
    loop, or a single pixel, has no chord)."""
    where = np.flatnonzero(member)
    local = np.full(len(points), -1)
    local[where] = np.arange(len(where))
    inside = _within(links, member)
    first, second = local[links.first[inside]], local[links.second[inside]]
    label = components(len(where), first, second)
    pieces = label.max() + 1 if len(label) else 0
    arc = np.bincount(label[first], weights=links.length[inside], minlength=pieces)
    degree = np.bincount(np.concatenate([first, second]), minlength=len(where))
    ends = np.flatnonzero(degree == 1)
    ends = ends[np.argsort(label[ends], kind="stable")]
    per_piece = np.bincount(label[ends], minlength=pieces)
    two = np.flatnonzero(per_piece == 2)
    start = np.searchsorted(label[ends], two)
    a, b = points[where[ends[start]]], points[where[ends[start + 1]]]
    chord = np.hypot(*(a - b).T) if len(two) else np.zeros(0)
    return {"segment_arc": arc[two], "segment_chord": chord}
