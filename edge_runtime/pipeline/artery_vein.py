"""Arteries and veins: a second model, chained after the vessel model, gives each pixel of the
field of view its probability of being an artery; the vessels the vessel model found take the
class it says (:func:`~edge_runtime.contract.artery_vein_classes.classes_from_probability`).

It sees the field of view in colour and with the vessel probabilities
(:func:`~edge_runtime.contract.artery_vein_input.artery_vein_input`) at its own working scale,
the disc its card's ``fov_diameter`` pixels across (the bundled model's: 270, half the vessel
model's), cut from the same box as the vessel model's: all at once when that fits the model's
square input (the bundled model's is 272 pixels), padded with zeros; else in overlapping square
tiles of that side, stitched without seams as the vessel model's are.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING, artery_vein_input
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL
from edge_runtime.inference.patch_model import PatchModel, PatchPredictor, as_predictor
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.pipeline.decode import Photo
from edge_runtime.pipeline.fov import Framing
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.tiling import corners_inside, extract_tiles, stitch_tiles

if TYPE_CHECKING:  # the segmenter chains this model: it imports this module
    from edge_runtime.pipeline.segmenter import Prepared

STRIDE_SHARE = 2
"""Tiles overlap by half: one starts every tile side / this many pixels."""


def framed_colour(photo: Photo, framing: Framing) -> np.ndarray:
    """The field of view's red, green and blue (H, W, 3) float32 as ``framing`` cuts and scales
    it (a grayscale photograph's one channel in all three)."""
    top, left, bottom, right = framing.box
    pixels = photo.pixels[top:bottom, left:right]
    out = np.empty((*framing.work_shape, 3), dtype=np.float32)
    if pixels.ndim == 2:
        out[...] = resize(pixels, framing.work_shape)[..., np.newaxis]
    else:
        for c in range(3):
            resize(pixels[..., c], framing.work_shape, out=out[..., c])
    return out


def framed_input(
    photo: Photo, prepared: "Prepared", vessel_probability: np.ndarray, diameter: float
) -> tuple[np.ndarray, np.ndarray]:
    """An artery/vein model's input (h, w, 4) at its working scale, the disc ``diameter`` pixels
    across, and the field of view there (h, w): from the decoded photograph, what the segmenter
    prepared of it and its working-scale vessel probabilities (resized to that scale)."""
    framing = prepared.framing.at_diameter(diameter)
    inside = framing.work_fov.mask(framing.work_shape)
    vessels = resize(vessel_probability, framing.work_shape)
    return artery_vein_input(framed_colour(photo, framing), inside, vessels), inside


class ArteryVeinModel:
    """Runs an artery/vein model over a segmented photograph's field of view.

    Args:
        model: a .tflite file, or :class:`RuntimeOptions` to say also how its interpreter runs;
            ``None`` for the model bundled with the package; or any
            :class:`~edge_runtime.inference.patch_model.PatchPredictor` on four-channel tiles
            (training and the gate run Keras models this way).

    :attr:`runtime` is, as for the vessel segmenter, the options that built it, the checked
    bytes included, or ``None`` for another predictor, and :attr:`identity` its file's version
    and SHA-256 (``None`` likewise); :attr:`tile` and :attr:`stride` are its
    tiles' side and spacing, :attr:`fov_diameter` the disc's diameter at its working scale (its
    card's), in pixels of that scale.

    Raises:
        ModelError: the file is not a usable artery/vein model (a vessel model is refused).
    """

    def __init__(self, model: "str | Path | RuntimeOptions | PatchPredictor | None" = None):
        model = as_predictor(model, ARTERY_VEIN_MODEL, ARTERY_VEIN_PREPROCESSING)
        self.model: PatchPredictor = model
        self.runtime = model.options if isinstance(model, PatchModel) else None
        self.identity = model.identity if isinstance(model, PatchModel) else None
        self.tile = model.side
        self.stride = max(1, self.tile // STRIDE_SHARE)
        self.fov_diameter = model.card.fov_diameter

    def artery_probability(
        self, photo: Photo, prepared: "Prepared", vessel_probability: np.ndarray
    ) -> np.ndarray | None:
        """Each pixel's probability of being an artery at the model's working scale (the box of
        ``prepared``, resized; 0 where no tile reached), from the decoded photograph, what the
        segmenter prepared of it and its working-scale vessel probabilities; ``None`` for a
        photograph without colour (:func:`~edge_runtime.pipeline.grayscale.has_colour`): the
        model tells arteries from veins by their colour above all (on eight of its own training
        photographs, DRIVE's, made grayscale it classed 0.81 of the vessel pixels right, 0.67 at
        worst, against 0.96 in colour; it was never trained or checked on grayscale; tinted,
        their luma sepia or their green channel green, 0.78 and 0.73)."""
        if not photo.coloured:
            return None
        inputs, inside = framed_input(photo, prepared, vessel_probability, self.fov_diameter)
        return self.tiled_probability(inputs, inside)

    def tile_corners(self, inside: np.ndarray) -> np.ndarray:
        """(N, 2) corners of the tiles that touch ``inside`` (a working-scale field of view,
        padded at the bottom and right to at least one tile)."""
        field = np.zeros([max(side, self.tile) for side in inside.shape], dtype=bool)
        field[: inside.shape[0], : inside.shape[1]] = inside
        return corners_inside(field, self.tile, self.stride)

    def tiled_probability(self, inputs: np.ndarray, inside: np.ndarray) -> np.ndarray:
        """Each pixel's probability of being an artery (H, W) from the model's input (H, W, 4)
        (:func:`~edge_runtime.contract.artery_vein_input.artery_vein_input`) in the tiles of
        :meth:`tile_corners`; 0 where no tile reached."""
        height, width = inputs.shape[:2]
        tile = self.tile
        padded = np.zeros((max(height, tile), max(width, tile), inputs.shape[2]), np.float32)
        padded[:height, :width] = inputs
        corners = self.tile_corners(inside)

        def predict(batch: np.ndarray) -> np.ndarray:
            return self.model.predict(extract_tiles(padded, batch, tile))

        return stitch_tiles(padded.shape[:2], tile, corners, predict)[:height, :width]
