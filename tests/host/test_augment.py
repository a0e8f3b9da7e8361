import numpy as np

from training.augment import GAMMA_RANGE, gamma_jitter, random_dihedral


def test_image_and_mask_get_the_same_transform():
    rng = np.random.default_rng(1)
    images = rng.random((16, 8, 8, 1))
    images_out, masks_out = random_dihedral(images, images.copy(), rng)
    np.testing.assert_array_equal(images_out, masks_out)
    assert not np.array_equal(images_out, images)


def test_gamma_jitter_keeps_the_unit_range_and_ends():
    x = np.linspace(0, 1, 4 * 16, dtype=np.float32).reshape(4, 4, 4, 1)
    out = gamma_jitter(x, np.random.default_rng(2))
    assert out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0
    # each image follows one power law within the configured range
    for original, jittered in zip(x, out, strict=True):
        inner = (original > 0) & (original < 1)
        gammas = np.log(jittered[inner]) / np.log(original[inner])
        assert np.ptp(gammas) < 1e-3
        assert GAMMA_RANGE[0] <= gammas.mean() <= GAMMA_RANGE[1]


def test_augment_batch_turns_each_label_with_its_image():
    """augment_batch, as the trainer calls it, turns masks with images (random_dihedral alone
    was tested)."""
    from training.augment import augment_batch

    rng = np.random.default_rng(1)
    images = rng.random((16, 8, 8, 1))
    out_images, out_masks = augment_batch(images, images.copy(), rng, True, False)
    np.testing.assert_array_equal(out_images, out_masks)
    assert not np.array_equal(out_images, images)
    # the jitter leaves a binary mask as it was turned, and changes the images
    masks = (images > 0.5).astype(np.float32)
    a = augment_batch(images, masks, np.random.default_rng(2), True, False)
    b = augment_batch(images, masks, np.random.default_rng(2), True, True)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], b[0])
