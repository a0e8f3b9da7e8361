"""Field-of-view detection: the bright disc of the retina inside the photograph's dark border."""

from dataclasses import dataclass

import numpy as np

from edge_runtime.ordered import distinct, percentiles
from edge_runtime.pipeline.grayscale import to_grayscale

ANALYSIS_SIDE = 256
"""Detection works on a copy subsampled to about this many pixels a side."""

RIM = 0.005
"""Share of the radius trimmed from the mask: the disc's bright rim is not retina. Measured
(leave-photographs-out models on DRIVE and STARE): 0.005 against 0.015 gains 0.005 AUC and
0.002 F1 on DRIVE (whose field-of-view masks include the rim) and costs 0.002 F1 on STARE."""

BORDER_LEVEL = 0.15
"""A pixel is inside when brighter than the dark level plus this share of the dark-to-bright
range (1st to 99th percentile)."""

MIN_BORDER = 0.03
"""The border (what lies outside the fitted disc) must cover at least this share of the
frame..."""

BLACK = 0.2
"""...and its median must be below this share of the bright level: a border is dark (black on
most cameras, a dark grey of about 0.13 on STARE's)."""

ERODE = 2
"""Erosions of the bright region before the disc is fitted (see :func:`eroded`)."""

OUTSIDE_MARGIN = 1.05
"""The border is taken this many radii from the disc's centre and beyond (its rim blends into
the dark)."""

EDGE = 1.0
"""Analysis pixels from the centres of the first and last bright pixels of a row or column out
to the disc's edge (the threshold leaves the dim rim out): measured on the DRIVE masks, whose
disc radius this makes right to within a pixel."""

FIT_ROUNDS = 4
"""Circle fits, each without the edge points far from the one before."""

ON_CIRCLE = 1.5
"""Analysis pixels from a circle within which an edge point lies on it."""


@dataclass(frozen=True)
class FieldOfView:
    """A disc (centre and radius, in pixels of the photograph); ``found`` is False when the
    photograph has no dark border, and the field of view is then the whole frame."""

    center_y: float
    center_x: float
    radius: float
    found: bool

    def mask(
        self, shape: tuple[int, int], window: tuple[int, int, int, int] | None = None
    ) -> np.ndarray:
        """Boolean mask of the pixels inside (the rim, :data:`RIM`, excluded): of the whole
        (H, W) frame, or of a (top, left, bottom, right) window of it."""
        top, left, bottom, right = window or (0, 0, *shape)
        if not self.found:
            return np.ones((bottom - top, right - left), dtype=bool)
        # each row is inside between two columns: no full-size float temporaries
        dy = np.arange(top, bottom, dtype=np.float64) - self.center_y
        half = np.sqrt(np.maximum((self.radius * (1 - RIM)) ** 2 - dy**2, 0.0))
        half[np.abs(dy) > self.radius * (1 - RIM)] = -1.0  # rows that miss the disc
        width = right - left
        first = np.clip(np.ceil(self.center_x - half) - left, 0, width).astype(np.intp)
        stop = np.clip(np.floor(self.center_x + half) - left + 1, 0, width).astype(np.intp)
        mask = np.zeros((bottom - top, width), dtype=bool)
        for row, start, end in zip(mask, first.tolist(), stop.tolist(), strict=True):
            row[start:end] = True  # a row at a time: faster than comparing every column
        return mask

    def box(self, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the disc clipped to the frame, bottom/right exclusive."""
        if not self.found:
            return 0, 0, shape[0], shape[1]
        top = max(0, int(np.floor(self.center_y - self.radius)))
        left = max(0, int(np.floor(self.center_x - self.radius)))
        bottom = min(shape[0], int(np.ceil(self.center_y + self.radius)) + 1)
        right = min(shape[1], int(np.ceil(self.center_x + self.radius)) + 1)
        return top, left, bottom, right

    def enlarged(self, factor: int) -> "FieldOfView":
        """The same disc in the pixels of a photograph ``factor`` times larger, whose pixels
        [y*factor, (y+1)*factor) make up pixel y of this one."""
        if factor == 1:
            return self
        return FieldOfView(
            (self.center_y + 0.5) * factor - 0.5,
            (self.center_x + 0.5) * factor - 0.5,
            self.radius * factor,
            self.found,
        )

    def framing(self, shape: tuple[int, int], diameter: float, min_side: int) -> "Framing":
        """How the model sees a photograph of ``shape`` with this field of view: cropped to the
        disc's box and scaled so that the disc is ``diameter`` pixels across, each working side
        at least ``min_side`` pixels. Without a disc, the frame's long side is taken for its
        diameter (a retina filling the frame has a disc at least that wide; a border too pale to
        detect leaves one nearly that wide), so the working size stays bounded whatever the
        photograph's size."""
        top, left, bottom, right = self.box(shape)
        scale = diameter / (2 * self.radius if self.found else max(shape))
        crop = (bottom - top, right - left)
        work = (max(min_side, round(crop[0] * scale)), max(min_side, round(crop[1] * scale)))
        work_fov = FieldOfView(
            (self.center_y - top + 0.5) * work[0] / crop[0] - 0.5,
            (self.center_x - left + 0.5) * work[1] / crop[1] - 0.5,
            self.radius * scale,
            self.found,
        )
        return Framing((top, left, bottom, right), scale, work, work_fov, diameter)


@dataclass(frozen=True)
class Framing:
    """A photograph as the model sees it: the ``box`` (top, left, bottom, right; bottom/right
    exclusive) cut around the field of view, resized to ``work_shape`` (about ``scale`` working
    pixels per photograph pixel), where the field of view is ``work_fov``, a disc ``diameter``
    pixels across."""

    box: tuple[int, int, int, int]
    scale: float
    work_shape: tuple[int, int]
    work_fov: FieldOfView
    diameter: float

    def at_diameter(self, diameter: float) -> "Framing":
        """The same box with the disc ``diameter`` pixels across (a chained model's own working
        scale; each side at least one pixel); this framing itself at its own diameter."""
        if diameter == self.diameter:
            return self
        scale = self.scale * diameter / self.diameter
        work = tuple(max(1, round(side * scale)) for side in self.crop_shape)
        fov = self.work_fov
        work_fov = FieldOfView(
            (fov.center_y + 0.5) * work[0] / self.work_shape[0] - 0.5,
            (fov.center_x + 0.5) * work[1] / self.work_shape[1] - 0.5,
            fov.radius * diameter / self.diameter,
            fov.found,
        )
        return Framing(self.box, scale, work, work_fov, diameter)

    @property
    def crop_shape(self) -> tuple[int, int]:
        """(height, width) of :attr:`box`, the crop of the photograph."""
        top, left, bottom, right = self.box
        return bottom - top, right - left


def eroded(mask: np.ndarray, times: int) -> np.ndarray:
    """``mask`` eroded ``times`` by a 3x3 square: specks and lines thinner than 2*times+1
    pixels (sensor noise, a caption along the border) vanish; a disc shrinks by ``times``."""
    for _ in range(times):
        padded = np.pad(mask, 1)
        mask = np.logical_and.reduce(
            [padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
             for dy in range(3) for dx in range(3)]
        )  # fmt: skip
    return mask


def _fit_circle(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float, float] | None:
    """Least-squares circle (centre y, centre x, radius) through edge points, refitted without
    the points far from it (:data:`FIT_ROUNDS` times): a bright caption or a notch in the
    border does not pull it. ``None`` when too few points remain."""
    keep = np.ones(len(ys), dtype=bool)
    for _ in range(FIT_ROUNDS):
        if keep.sum() < 6:
            return None
        y, x = ys[keep], xs[keep]
        design = np.column_stack([x, y, np.ones_like(x)])
        (a, b, c), *_ = np.linalg.lstsq(design, -(x**2 + y**2), rcond=None)
        center_x, center_y = -a / 2, -b / 2
        squared = center_x**2 + center_y**2 - c
        if squared <= 0:
            return None
        radius = float(np.sqrt(squared))
        misfit = np.abs(np.hypot(ys - center_y, xs - center_x) - radius)
        keep = misfit <= max(ON_CIRCLE, 3 * float(np.median(misfit[keep])))
    return float(center_y), float(center_x), radius


def _points_on(circle: tuple[float, float, float], ys: np.ndarray, xs: np.ndarray) -> int:
    """How many of the points (``ys``, ``xs``) lie on ``circle`` (centre y, centre x, radius),
    within :data:`ON_CIRCLE`."""
    center_y, center_x, radius = circle
    return int(
        np.count_nonzero(np.abs(np.hypot(ys - center_y, xs - center_x) - radius) <= ON_CIRCLE)
    )


def _sampled(length: int, step: int) -> np.ndarray:
    """Every ``step``-th pixel of a side ``length`` pixels long, from each end to its middle:
    the same pixels counted from either end, so that the photograph turned or mirrored is
    sampled alike."""
    from_start = np.arange(0, length // 2 + 1, step)
    return distinct(np.concatenate([from_start, length - 1 - from_start]))


def _edge_points(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the first and last pixel of the eroded bright region ``inside`` on
    each row, where the disc's edge is: not where the region reaches the frame's side (the
    erosion leaves it :data:`ERODE` pixels from it), which cuts the disc, not its edge."""
    rows = np.flatnonzero(inside.any(axis=1))
    first = inside[rows].argmax(axis=1)
    last = inside.shape[1] - 1 - inside[rows, ::-1].argmax(axis=1)
    ys, xs = np.concatenate([rows, rows]), np.concatenate([first, last])
    on_disc = (xs > ERODE) & (xs < inside.shape[1] - 1 - ERODE)
    return ys[on_disc], xs[on_disc]


def detect_fov(image: np.ndarray) -> FieldOfView:
    """Find the field-of-view disc of a photograph (H, W) or (H, W, 3|4).

    The photograph is subsampled (:func:`_sampled`) and thresholded between its dark and bright
    levels; the bright region is eroded, so that specks in the border vanish; a circle is
    fitted to the first and last bright pixel of each row, another to those of each column
    (:func:`_edge_points`, :func:`_fit_circle`), and the disc is the one more of them lie on
    (:func:`_points_on`; the larger, if as many): dark vessels and lesions inside do not
    matter, a caption in the border is left out as far from the circle, a disc cut off by any
    side of the frame is still measured across its full diameter, and what hides the disc's
    edge along the rows or the columns (an eyelid's shadow across the top, an aperture's
    straight cut, which the columns read as its edge) pulls in only one fit, which fewer edge
    points lie on. The photograph turned or mirrored has the same disc, turned or mirrored.
    The disc counts as found when what lies outside it (beyond :data:`OUTSIDE_MARGIN` of its
    radius) covers at least :data:`MIN_BORDER` of the frame and is dark (:data:`BLACK`): a
    frame filled by the retina, or no retina at all, has no such border.
    """
    height, width = image.shape[:2]
    step = max(1, int(np.ceil(max(height, width) / ANALYSIS_SIDE)))
    rows, columns = _sampled(height, step), _sampled(width, step)
    small = to_grayscale(np.take(np.take(image, rows, axis=0), columns, axis=1))
    dark, bright = percentiles(small, (1, 99))
    whole = FieldOfView((height - 1) / 2, (width - 1) / 2, 0.0, found=False)
    if bright - dark <= 0:
        return whole
    inside = eroded(small > dark + BORDER_LEVEL * (bright - dark), ERODE)
    if min(np.count_nonzero(inside.any(axis=axis)) for axis in (0, 1)) < 3:
        return whole
    ys, xs = rows / step, columns / step  # in analysis pixels
    row_ys, row_xs = _edge_points(inside)
    column_xs, column_ys = _edge_points(inside.T)
    fits = [_fit_circle(ys[row_ys], xs[row_xs]), _fit_circle(ys[column_ys], xs[column_xs])]
    fits = [fit for fit in fits if fit is not None]
    if not fits:
        return whole
    edge_ys = ys[np.concatenate([row_ys, column_ys])]
    edge_xs = xs[np.concatenate([row_xs, column_xs])]
    circle = max(fits, key=lambda fit: (_points_on(fit, edge_ys, edge_xs), fit[2]))
    center_y, center_x, radius = circle
    radius += ERODE + EDGE  # what the erosion took off, and where the edge really is
    beyond = (ys[:, None] - center_y) ** 2 + (xs - center_x) ** 2 > (radius * OUTSIDE_MARGIN) ** 2
    border = small[beyond]
    if border.size < MIN_BORDER * small.size or np.median(border) > BLACK * bright:
        return whole
    return FieldOfView(center_y * step, center_x * step, radius * step, found=True)
