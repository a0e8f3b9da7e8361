"""Overlapping tiles over an image, and seam-free weighted stitching of their predictions."""

from collections.abc import Callable

import numpy as np

TILES_PER_STEP = 32
"""Tiles preprocessed and run together; bounds the working memory of a large photograph."""


def tile_starts(length: int, tile: int, stride: int) -> np.ndarray:
    """Start offsets of tiles covering ``[0, length)``: every ``stride``, the last flush with
    the end. ``length`` must be at least ``tile``."""
    if length < tile:
        raise ValueError(f"got length {length}, expected at least the tile size {tile}")
    starts = np.arange(0, length - tile + 1, stride)
    return starts if starts[-1] == length - tile else np.append(starts, length - tile)


def tile_grid(shape: tuple[int, int], tile: int, stride: int) -> np.ndarray:
    """(N, 2) int array of the (top, left) corner of every tile covering an (H, W) image."""
    ys, xs = tile_starts(shape[0], tile, stride), tile_starts(shape[1], tile, stride)
    return np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)


def corners_inside(inside: np.ndarray, tile: int, stride: int) -> np.ndarray:
    """(N, 2) corners of the tiles, every ``stride`` pixels, that touch ``inside`` (a boolean
    (H, W) mask, each side at least ``tile``); tiles wholly outside are skipped."""
    xs = tile_starts(inside.shape[1], tile, stride)
    touched = []
    for y in tile_starts(inside.shape[0], tile, stride):
        # a row of tiles touches the mask where its band's columns do (counted, not searched)
        columns = np.concatenate([[0], np.cumsum(inside[y : y + tile].any(axis=0))])
        touched.append(columns[xs + tile] > columns[xs])
    return tile_grid(inside.shape, tile, stride)[np.concatenate(touched)]


def extract_tiles(image: np.ndarray, corners: np.ndarray, tile: int) -> np.ndarray:
    """Tiles (N, tile, tile[, C]) of an (H, W[, C]) image at the given corners."""
    return np.stack([image[y : y + tile, x : x + tile] for y, x in corners])


def blend_window(tile: int) -> np.ndarray:
    """Stitching weights (tile, tile), float32: highest at the centre, falling linearly towards
    the edges but never to zero, so every covered pixel has weight and seams are smooth."""
    ramp = np.minimum(np.arange(tile) + 0.5, tile - 0.5 - np.arange(tile)).astype(np.float32)
    return np.outer(ramp, ramp)


class Stitcher:
    """Accumulates weighted tile predictions over an (H, W) canvas."""

    def __init__(self, shape: tuple[int, int], tile: int):
        self.tile = tile
        self.window = blend_window(tile)
        self.total = np.zeros(shape, dtype=np.float32)
        self.weight = np.zeros(shape, dtype=np.float32)

    def add(self, tiles: np.ndarray, corners: np.ndarray) -> None:
        """Add predictions (N, tile, tile) at their (N, 2) corners."""
        t, window = self.tile, self.window
        for values, (y, x) in zip(tiles * window, corners.tolist(), strict=True):
            self.total[y : y + t, x : x + t] += values
            self.weight[y : y + t, x : x + t] += window

    def result(self) -> np.ndarray:
        """The weighted mean (H, W); 0 where no tile was added."""
        return np.divide(
            self.total, self.weight, out=np.zeros_like(self.total), where=self.weight > 0
        )


def stitch_tiles(
    shape: tuple[int, int],
    tile: int,
    corners: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """The weighted mean (H, W) of ``predict(batch)``, predictions (N, tile, tile) of the tiles
    at a batch of corners, run :data:`TILES_PER_STEP` corners at a time (0 where no tile
    reached)."""
    stitcher = Stitcher(shape, tile)
    for start in range(0, len(corners), TILES_PER_STEP):
        batch = corners[start : start + TILES_PER_STEP]
        stitcher.add(predict(batch), batch)
    return stitcher.result()
