"""Field-of-view detection: the bright disc of the retina inside the photograph's dark border."""

from dataclasses import dataclass

import numpy as np

from edge_runtime.pipeline.grayscale import to_grayscale

ANALYSIS_SIDE = 256
"""Detection works on a copy subsampled to about this many pixels a side."""

RIM = 0.015
"""Share of the radius trimmed from the mask: the disc's bright rim is not retina."""

BORDER_LEVEL = 0.15
"""A pixel is inside when brighter than the dark level plus this share of the dark-to-bright
range (1st to 99th percentile)."""

MIN_BORDER = 0.03
"""A dark border must cover at least this share of the frame..."""

BLACK = 0.1
"""...and its median must be below this share of the bright level: a border is near black."""

WIDEST = 0.98
"""Rows at least this share of the widest bright row's width span the disc's diameter; the
centre is measured on them."""


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
        first = np.ceil(self.center_x - half) - left
        last = np.floor(self.center_x + half) - left
        columns = np.arange(right - left)
        return (columns >= first[:, None]) & (columns <= last[:, None])

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
            (self.center_y - top) * work[0] / crop[0],
            (self.center_x - left) * work[1] / crop[1],
            self.radius * scale,
            self.found,
        )
        return Framing((top, left, bottom, right), scale, work, work_fov)


@dataclass(frozen=True)
class Framing:
    """A photograph as the model sees it: the ``box`` (top, left, bottom, right; bottom/right
    exclusive) cut around the field of view, resized to ``work_shape`` (about ``scale`` working
    pixels per photograph pixel), where the field of view is ``work_fov``."""

    box: tuple[int, int, int, int]
    scale: float
    work_shape: tuple[int, int]
    work_fov: FieldOfView

    @property
    def crop_shape(self) -> tuple[int, int]:
        top, left, bottom, right = self.box
        return bottom - top, right - left


def detect_fov(image: np.ndarray) -> FieldOfView:
    """Find the field-of-view disc of a photograph (H, W) or (H, W, 3|4).

    The photograph is subsampled, thresholded between its dark and bright levels, and a disc is
    fitted to the widest rows of the bright region: the first and last bright pixel of each row
    make the fit insensitive to dark vessels and lesions inside, and a disc cut off at the top or
    bottom of the frame is still measured across its full diameter.
    """
    height, width = image.shape[:2]
    step = max(1, int(np.ceil(max(height, width) / ANALYSIS_SIDE)))
    small = to_grayscale(image[::step, ::step])
    dark, bright = np.percentile(small, (1, 99))
    whole = FieldOfView((height - 1) / 2, (width - 1) / 2, 0.0, found=False)
    if bright - dark <= 0:
        return whole
    inside = small > dark + BORDER_LEVEL * (bright - dark)
    outside = small[~inside]
    if outside.size < MIN_BORDER * small.size or np.median(outside) > BLACK * bright:
        return whole  # no dark border: a frame filled by the retina, or no retina at all
    rows = np.flatnonzero(inside.any(axis=1))
    first = inside[rows].argmax(axis=1)
    last = inside.shape[1] - 1 - inside[rows, ::-1].argmax(axis=1)
    widths = last - first + 1
    widest = widths >= WIDEST * widths.max()
    radius = widths.max() / 2 * step
    center_y = float(np.mean(rows[widest])) * step
    center_x = float(np.median((first[widest] + last[widest]) / 2)) * step
    return FieldOfView(center_y, center_x, radius, found=True)
