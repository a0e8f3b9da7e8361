"""Patch augmentation in numpy: random flips and rotations of the square, and gamma jitter.

The symmetries are :func:`edge_runtime.contract.symmetry.dihedral`'s.

Per-patch contrast stretching undoes any linear brightness or contrast change, so the intensity
jitter that can reach the model is non-linear: a random gamma applied to the stretched patch.
"""

import numpy as np

from edge_runtime.contract.symmetry import dihedral

GAMMA_RANGE = (0.7, 1.4)
"""Gamma drawn log-uniformly from this range by :func:`gamma_jitter`."""


def random_dihedral(
    images: np.ndarray, masks: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the same random symmetry to each image (N, H, W, C) and its mask."""
    transforms = rng.integers(0, 8, size=len(images))
    out_images = np.stack([dihedral(x, t) for x, t in zip(images, transforms, strict=True)])
    out_masks = np.stack([dihedral(y, t) for y, t in zip(masks, transforms, strict=True)])
    return out_images, out_masks


def gamma_jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Raise each image (N, ...) in [0, 1] to a power drawn log-uniformly from GAMMA_RANGE."""
    low, high = np.log(GAMMA_RANGE)
    gamma = np.exp(rng.uniform(low, high, size=len(images))).astype(images.dtype)
    return images ** gamma.reshape((-1,) + (1,) * (images.ndim - 1))


def augment_batch(
    images: np.ndarray,
    masks: np.ndarray,
    rng: np.random.Generator,
    symmetries: bool,
    jitter: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Augment a training batch: random symmetries, then gamma jitter, each when asked for.

    The symmetries apply to images and masks alike, the jitter to the images; both draw from
    ``rng``, in that order.
    """
    if symmetries:
        images, masks = random_dihedral(images, masks, rng)
    if jitter:
        images = gamma_jitter(images, rng)
    return images, masks
