"""The whole-photograph pipeline with the bundled model, on synthetic and real photographs."""

import gc
import importlib
import io
import os
import re
import tracemalloc
import types
from pathlib import PurePosixPath

import numpy as np
import pytest
from PIL import Image

import edge_runtime
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.pipeline.decode import Photo
from edge_runtime.pipeline.segmenter import Segmenter
from edge_runtime.verdict import assess_capture


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


@pytest.fixture(scope="module")
def retina():
    data = pytest.importorskip(
        "skimage.data", reason="the real photograph ships with scikit-image (the 'demo' extra)"
    )
    return data.retina()


def test_real_photo(segmenter, retina):
    result = segmenter.segment(retina)
    assert result.mask.shape == result.probability.shape == result.fov.shape == (1411, 1411)
    assert result.mask.dtype == np.uint8 and set(np.unique(result.mask)) == {0, 1}
    assert not result.mask[~result.fov].any() and not result.probability[~result.fov].any()
    assert result.stats.fov_found and result.stats.fov_radius == pytest.approx(696, rel=0.02)
    # a fundus photograph: vessels cover roughly a tenth of the field of view
    assert 0.05 < result.stats.vessel_fraction < 0.25
    assert result.stats.scale == pytest.approx(540 / (2 * result.stats.fov_radius))
    assert set(result.stats.ms) >= {"decode", "fov_and_resize", "tiles_and_inference", "total"}


def test_same_input_same_mask_across_runs_and_threads(segmenter, retina):
    first = segmenter.segment(retina).mask
    np.testing.assert_array_equal(first, segmenter.segment(retina).mask)
    np.testing.assert_array_equal(first, Segmenter(RuntimeOptions(threads=2)).segment(retina).mask)


def test_16_bit_and_rgba_input_match_8_bit(segmenter):
    photo = synthetic_fundus(300, 280)
    expected = segmenter.segment(photo).mask
    as16 = photo.astype(np.uint16) * 257
    assert np.mean(segmenter.segment(as16).mask == expected) > 0.999
    rgba = np.dstack([photo, np.full(photo.shape[:2], 7, np.uint8)])
    np.testing.assert_array_equal(segmenter.segment(rgba).mask, expected)


def test_grayscale_and_path_input(segmenter, tmp_path):
    from PIL import Image

    photo = synthetic_fundus(200, 240)
    Image.fromarray(photo).save(tmp_path / "p.png")
    from_path = segmenter.segment(tmp_path / "p.png")
    np.testing.assert_array_equal(from_path.mask, segmenter.segment(photo).mask)
    gray = segmenter.segment(photo[..., 0])
    assert gray.mask.shape == (200, 240)


def test_threshold_override_changes_the_mask(retina):
    low = Segmenter(config=SegmenterConfig(threshold=0.2)).segment(retina)
    high = Segmenter(config=SegmenterConfig(threshold=0.8)).segment(retina)
    assert low.mask.sum() > high.mask.sum()
    np.testing.assert_array_equal(low.probability, high.probability)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((100, 100, 2), np.uint8), r"shape \(100, 100, 2\)"),
        (np.zeros((100, 100), np.float64), "dtype float64, expected uint8 or uint16"),
        (np.zeros((30, 100), np.uint8), "too small"),
    ],
)
def test_bad_arrays(segmenter, array, message):
    with pytest.raises(InputError, match=message):
        segmenter.segment(array)


def test_stride_is_checked():
    with pytest.raises(ValueError, match="got stride 0, expected at least 1"):
        SegmenterConfig(stride=0)
    with pytest.raises(ValueError, match=r"got stride 65, expected 1\.\.64"):
        Segmenter(config=SegmenterConfig(stride=65))


def test_stitched_strips_score_like_the_patches_themselves(segmenter, dev_npz):
    """Wide strips rebuilt from contiguous holdout patches, tiled at the default stride and
    stitched, score within 0.01 of the model run on the patches one by one."""
    from edge_runtime.contract.metrics import dice_per_patch
    from edge_runtime.data.patches import load_labeled_patches
    from edge_runtime.evaluation.strips import holdout_runs, stitched_patch_dice

    x, y = load_labeled_patches(dev_npz, "x_train", "y_train")
    runs = holdout_runs(x, 0.2)  # the bundled model's holdout
    covered = [i for run in runs for i in run]
    assert len(runs) >= 10 and len(covered) >= 70
    per_patch = dice_per_patch(y[covered], segmenter.patch_masks(x[covered])).mean()
    strips = stitched_patch_dice(segmenter, x, y, runs)
    spans = [64 * (len(run) - 1) for run in runs]
    stride = segmenter.config.stride
    assert strips.tiles == sum(len(range(0, s + 1, stride)) + (s % stride > 0) for s in spans)
    assert strips.dice.shape == (len(covered),)
    assert abs(strips.dice.mean() - per_patch) < 0.01


def test_under_exposure_and_vignetting_barely_change_the_mask(segmenter, retina):
    """Each tile is contrast-stretched on its own, so a darker photograph or a dark periphery
    gives nearly the same vessels (benchmarks/robustness.py measures more degradations)."""
    from edge_runtime.contract.metrics import dice_score

    reference = segmenter.segment(retina)
    ys, xs = np.mgrid[0 : retina.shape[0], 0 : retina.shape[1]]
    falloff = 1 - 0.5 * (np.hypot(ys - 705, xs - 705) / 998) ** 2
    for factor in (0.5, falloff):
        darker = np.rint(retina * np.asarray(factor)[..., None]).astype(np.uint8)
        mask = segmenter.segment(darker).mask
        assert dice_score(reference.mask[reference.fov], mask[reference.fov]) > 0.97


@pytest.mark.parametrize("mode", ["RGB", "P", "CMYK", "YCbCr", "RGBA"])
def test_a_pillow_image_is_read_as_its_file_would_be(segmenter, tmp_path, mode):
    """A palette image once went in as its indices, a CMYK one as RGBA: other vessels."""
    from PIL import Image

    picture = Image.fromarray(synthetic_fundus(200, 240)).convert(mode)
    saved = tmp_path / ("p.tif" if mode in ("CMYK", "YCbCr") else "p.png")
    picture.save(saved)
    from_file = segmenter.segment(saved).mask
    np.testing.assert_array_equal(segmenter.segment(picture).mask, from_file)


def test_an_opened_file_is_read_as_its_path_is(segmenter, tmp_path):
    """Image.open() keeps the EXIF orientation: it once went in unturned, and a 16-bit PGM
    was refused as 32-bit."""
    from PIL import Image

    picture = Image.fromarray(synthetic_fundus(200, 240))
    exif = picture.getexif()
    exif[0x0112] = 6
    picture.save(tmp_path / "turned.jpg", exif=exif)
    Image.fromarray(np.asarray(picture.convert("L"), np.uint16) * 257).save(tmp_path / "g.pgm")
    for name, shape in (("turned.jpg", (240, 200)), ("g.pgm", (200, 240))):
        with Image.open(tmp_path / name) as opened:
            from_picture = segmenter.segment(opened).mask
        np.testing.assert_array_equal(from_picture, segmenter.segment(tmp_path / name).mask)
        assert from_picture.shape == shape


def test_a_big_endian_array_is_read_as_its_values(segmenter):
    """A big-endian frame buffer's uint16 was refused as if it were another dtype."""
    photo = np.asarray(synthetic_fundus(200, 240), np.uint16) * 257
    swapped = photo.astype(">u2")
    np.testing.assert_array_equal(segmenter.segment(swapped).mask, segmenter.segment(photo).mask)


@pytest.mark.parametrize("given", [None, b"\x89PNG\r\n", 5, [[0, 1], [1, 0]]])
def test_what_is_no_photograph_is_a_type_error_naming_its_type(segmenter, given):
    with pytest.raises(TypeError, match=f"got a {type(given).__name__} to segment, expected"):
        segmenter.segment(given)


@pytest.mark.parametrize("model", ["", " ", 5, True])
def test_a_blank_or_wrong_model_is_refused_not_taken_for_the_bundled_one(model):
    """ArteryVeinModel("") once ran the bundled model."""
    from edge_runtime import ArteryVeinModel
    from edge_runtime.errors import ModelError

    error = ModelError if isinstance(model, str) else TypeError
    for make in (Segmenter, ArteryVeinModel, lambda m: Segmenter(artery_vein=m)):
        with pytest.raises(error, match=f"got model {model!r}|got model path {model!r}"):
            make(model)


def test_patches_that_are_not_numbers_are_refused(segmenter):
    """NaN patches gave a RuntimeWarning and masks."""
    with pytest.raises(ValueError, match="values that are not numbers"):
        segmenter.patch_masks(np.full((2, 64, 64), np.nan))


def test_a_pillow_image_of_32_bit_pixels_is_refused(segmenter):
    from PIL import Image

    with pytest.raises(InputError, match=r"32-bit float pixels \('F' mode\)"):
        segmenter.segment(Image.new("F", (240, 200)))


def test_a_pillow_image_of_every_mode_of_8_or_16_bits_is_its_photograph():
    """A premultiplied "La" image raised Pillow's own ValueError, and a native-order 16-bit
    "I;16N" one was cut to 8-bit RGB, its values clipped."""
    from PIL import Image

    from edge_runtime.pipeline.decode import photo_from_picture

    grey = synthetic_fundus(80, 90)[..., 1]
    wide = grey.astype(np.uint16) * 257
    expected = {"La": grey, "I;16N": wide, "I;16": wide, "LA": grey}
    pictures = {
        "La": Image.fromarray(grey).convert("LA").convert("La"),
        "LA": Image.fromarray(grey).convert("LA"),
        "I;16": Image.fromarray(wide),
        "I;16N": Image.frombuffer("I;16N", (90, 80), wide.astype("=u2").tobytes(), "raw"),
    }
    for mode, picture in pictures.items():
        assert picture.mode == mode
        photo = photo_from_picture(picture)
        assert photo.pixels.dtype == expected[mode].dtype, mode
        np.testing.assert_array_equal(photo.pixels, expected[mode], err_msg=mode)
    colour = Image.fromarray(synthetic_fundus(80, 90))
    for mode in ("1", "P", "PA", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        photo = photo_from_picture(colour.convert(mode))
        assert photo.pixels.dtype == np.uint8 and photo.shape == (80, 90), mode


def test_a_result_keeps_the_photograph_given_when_the_caller_reuses_its_buffer():
    """A camera loop captures into one buffer: the verdict and arteries/veins, read later,
    once read the next frame."""
    from edge_runtime import ArteryVeinModel
    from edge_runtime.analysis.segmentation import Segmenter as Analysing

    segmenter = Analysing(artery_vein=ArteryVeinModel())
    frame = synthetic_fundus(260, 280, seed=3)
    expected = segmenter.segment(frame.copy())
    buffer = frame.copy()
    result = segmenter.segment(buffer)
    buffer[:] = np.random.default_rng(0).integers(0, 256, buffer.shape, dtype=np.uint8)
    assert result.verdict == expected.verdict
    np.testing.assert_array_equal(result.artery_vein, expected.artery_vein)


def _arrays_held(root: object) -> list[np.ndarray]:
    """Every numpy array ``root`` holds: through its objects, containers and arrays' bases, not
    through classes, modules or functions."""
    seen, todo, arrays = set(), [root], []
    skipped = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, skipped):
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            arrays.append(item)
            todo.append(item.base)
        todo.extend(gc.get_referents(item))
    return arrays


@pytest.mark.parametrize("given", ["array", "photo"])
def test_a_result_holds_no_copy_of_a_large_frame_at_its_own_size(given):
    """A result kept its photograph's copy of an array at the array's own size, beside the
    pixels decoded reduced, for as long as the caller kept it (a 6000x4000 16-bit frame's 137
    MiB), its verdict and arteries and veins read or not: it keeps what they read, the reduced
    pixels (here a quarter of the frame's bytes). The caller's own Photo still shows itself."""
    from edge_runtime import ArteryVeinModel
    from edge_runtime.analysis.segmentation import Segmenter as Analysing
    from edge_runtime.pipeline.decode import photo_from_array

    frame = synthetic_fundus(1700, 3210).astype(np.uint16) * 257  # decoded reduced by 2
    photo = photo_from_array(frame) if given == "photo" else frame
    result = Analysing(artery_vein=ArteryVeinModel()).segment(photo)
    assert result.photo.reduction == 2
    for read in ("mask", "verdict", "artery_vein"):
        getattr(result, read)
        assert max(array.nbytes for array in _arrays_held(result)) < frame.nbytes / 2, read
    with pytest.raises(ValueError, match=r"^photo: got pixels reduced by 2 from 3210x1700 and"):
        result.photo.picture()
    if given == "photo":
        assert photo.picture().size == (3210, 1700)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, ">u2"])
def test_a_large_frame_is_reduced_from_the_callers_pixels_never_copied_whole(dtype):
    """A frame to segment was copied whole, then reduced, its 16-bit planes widened to 32 bits
    whole (a 6000x4000 16-bit frame's call peaked 252 MiB of arrays above its start, 137 MiB
    of them the copy): it is reduced from the caller's pixels a band of rows at a time, to the
    same block means, and holds none of the caller's buffer. A big-endian frame buffer's was
    still copied whole into this machine's byte order."""
    from edge_runtime.pipeline.segmenter import as_photo

    scale = 1 if dtype == np.uint8 else 257
    frame = (synthetic_fundus(1700, 3210).astype(np.uint16) * scale).astype(dtype)
    tracemalloc.start()
    try:
        photo = as_photo(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < frame.nbytes / 2
    assert photo.reduction == 2 and photo.original is None
    blocks = frame.reshape(850, 2, 1605, 2, 3).sum(axis=(1, 3), dtype=np.int64)
    expected = (blocks + 2) // 4
    frame[:] = 0
    np.testing.assert_array_equal(photo.pixels, expected)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((181, 6001, 3), np.uint8), ((181, 6001, 4), ">u2"), ((90, 14000), np.uint16)],
    ids=["8-bit-colour", "16-bit-big-endian-rgba", "16-bit-gray-by-8"],
)
def test_a_frame_wider_than_a_block_is_reduced_as_it_would_be_whole(shape, dtype):
    """A frame wider than 4,096 pixels is reduced a band of fewer than 128 rows at a time (87
    of a 6001-pixel row, 37 of a 14,000-pixel one, rounded up to the reduction: blocks never
    straddle two bands), a big-endian frame buffer's in this machine's byte order: the block
    means of the whole frame, partial blocks at the right and bottom too."""
    from edge_runtime.pipeline.segmenter import as_photo

    frame = np.random.default_rng(3).integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    photo = as_photo(frame)
    reduction = photo.reduction
    colour = np.ascontiguousarray(frame[..., :3] if frame.ndim == 3 else frame)
    if colour.dtype == np.uint8:
        expected = np.asarray(Image.fromarray(colour).reduce(reduction))
    else:
        planes = np.atleast_3d(colour).astype(np.int32)  # Pillow averages 16 bits as 32
        reduced = [Image.fromarray(plane).reduce(reduction) for plane in np.moveaxis(planes, 2, 0)]
        expected = np.dstack(reduced)[..., 0] if frame.ndim == 2 else np.dstack(reduced)
    assert reduction == (2 if shape[1] == 6001 else 8) and photo.original is None
    assert photo.pixels.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(photo.pixels, expected)


def test_a_pillow_image_to_segment_keeps_no_copy_at_its_own_size():
    """A Pillow image to segment was read out whole and copied whole again, the copy kept
    beside the reduced pixels: it is reduced from what was read out, as an array is."""
    from edge_runtime.pipeline.segmenter import as_photo

    frame = synthetic_fundus(1700, 3210)
    photo = as_photo(Image.fromarray(frame))
    assert photo.reduction == 2 and photo.original is None
    np.testing.assert_array_equal(photo.pixels, as_photo(frame).pixels)


def test_one_segmenter_serves_two_threads_with_the_results_of_one(segmenter):
    """Two threads once shared its interpreter's tensors: a ModelError blamed on the model, or
    another photograph's mask."""
    from concurrent.futures import ThreadPoolExecutor

    photos = [synthetic_fundus(200, 240, seed=seed) for seed in range(4)]
    expected = [segmenter.segment(photo).mask for photo in photos]
    with ThreadPoolExecutor(2) as pool:
        masks = list(pool.map(lambda i: segmenter.segment(photos[i % 4]).mask, range(16)))
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(mask, expected[i % 4])


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda p: Photo(p, (2000, 2000)), "which are not its shape (2000, 2000) reduced by 1"),
        (lambda p: Photo(p.astype(np.float32), p.shape[:2]), "got pixels a float32 array"),
        (lambda p: Photo(p, p.shape[:2], 3), "a reduction of 1, 2, 4 or 8"),
    ],
    ids=["claims-another-size", "float", "reduction"],
)
def test_a_photo_that_cannot_be_its_pixels_is_refused(make, says):
    """A Photo claiming 2000x2000 over 584x565 pixels gave a 2000x2000 mask."""
    pixels = synthetic_fundus(120, 130)
    with pytest.raises(InputError, match=re.escape(says)):
        make(pixels)


def test_a_photo_too_small_to_segment_is_refused_as_a_file_of_its_size_is():
    photo = Photo(synthetic_fundus(70, 70)[:5, :5].copy(), (5, 5))
    with pytest.raises(InputError, match=r"^photo: 5x5 pixels is too small to segment"):
        Segmenter().segment(photo)


def test_the_vessel_fraction_is_of_the_field_of_view_not_the_frame(segmenter):
    result = segmenter.segment(synthetic_fundus(200, 240))
    fov = result.fov
    assert fov.sum() < 0.8 * fov.size  # a dark border: the two shares differ
    assert result.stats.vessel_fraction == pytest.approx(result.mask.sum() / fov.sum())


def test_a_reduced_photograph_reports_its_scale_and_box_in_its_own_pixels(segmenter):
    """3210 pixels wide: decoded reduced by 2. The scale is working pixels per photograph
    pixel, and the box the decoded box times 2 (clipped to the photograph)."""
    photo = synthetic_fundus(1700, 3210)
    result = segmenter.segment(photo)
    assert result.photo.reduction == 2
    assert result.stats.scale == pytest.approx(540 / (2 * result.stats.fov_radius))
    top, left, bottom, right = result.prepared.framing.box
    assert result.prepared.box == (2 * top, 2 * left, min(2 * bottom, 1700), min(2 * right, 3210))


def _saved(tmp_path, name: str, frames: int = 1) -> str:
    """A synthetic photograph saved as ``name`` (``frames`` pictures of it)."""
    from PIL import Image

    pictures = [Image.fromarray(synthetic_fundus(200, 240, seed=s)) for s in range(frames)]
    path = tmp_path / name
    pictures[0].save(path, save_all=frames > 1, append_images=pictures[1:])
    return str(path)


def test_a_pillow_image_that_cannot_be_decoded_is_an_input_error_naming_its_file(
    segmenter, tmp_path
):
    """Pillow's own OSError ("image file is truncated") escaped, past a capture loop catching
    the package's errors; given as a path, the same file was an InputError."""
    from PIL import Image

    path = _saved(tmp_path, "cut.jpg")
    with open(path, "r+b") as file:
        file.truncate(len(file.read()) // 2)
    with pytest.raises(InputError, match=r"cut\.jpg: cannot decode image \(image file is trunc"):
        segmenter.segment(Image.open(path))


def test_a_pillow_image_whose_file_was_closed_unread_says_so(segmenter, tmp_path):
    """An empty AssertionError from Pillow escaped: the with block closed the file first."""
    from PIL import Image

    path = _saved(tmp_path, "eye.png")
    with Image.open(path) as image:
        pass
    with pytest.raises(InputError, match=r"eye\.png: its file was closed before its pixels were"):
        segmenter.segment(image)
    with Image.open(path) as image:
        image.load()
    assert segmenter.segment(image).mask.shape == (200, 240)


@pytest.mark.parametrize("name", ["eyes.gif", "eyes.tif"])
def test_a_pillow_image_of_several_pictures_is_refused_as_its_file_is(segmenter, tmp_path, name):
    """Given opened, an animation or a multi-page TIFF gave its first picture in silence; given
    as a path it was refused. One picture of it, copied, is a photograph."""
    from PIL import Image

    image = Image.open(_saved(tmp_path, name, frames=2))
    with pytest.raises(InputError, match=rf"{name}: holds 2 pictures of 240x200, expected one"):
        segmenter.segment(image)
    image.seek(1)
    assert segmenter.segment(image.copy()).mask.shape == (200, 240)
    # opened from memory: counted on itself (it was taken as its first picture)
    opened = Image.open(io.BytesIO((tmp_path / name).read_bytes()))
    with pytest.raises(InputError, match="image: holds 2 pictures of 240x200, expected one"):
        segmenter.segment(opened)


def test_any_path_like_names_a_photograph(segmenter, tmp_path):
    """A folder's os.scandir entries (of a folder named in bytes too), a PurePath: TypeError
    'expected a path'. Bytes are no path here: a file's contents, more likely."""
    path = tmp_path / "eye.png"
    Image.fromarray(synthetic_fundus(200, 240)).save(path)
    (entry,) = os.scandir(tmp_path)
    (named_in_bytes,) = os.scandir(os.fsencode(tmp_path))
    expected = segmenter.segment(path).mask
    for given in (entry, named_in_bytes, PurePosixPath(path), str(path)):
        np.testing.assert_array_equal(segmenter.segment(given).mask, expected)


def test_a_configuration_of_numpy_numbers_is_recorded_as_python_s():
    """numpy's numbers were taken, and the provenance then failed to be written as JSON
    ('Object of type int64 is not JSON serializable')."""
    config = SegmenterConfig(
        threshold=np.float32(0.5), fov_diameter=np.int64(540), stride=np.int32(40)
    )
    assert (type(config.threshold), type(config.fov_diameter), type(config.stride)) == (
        float,
        float,
        int,
    )
    assert config == SegmenterConfig(threshold=0.5, fov_diameter=540.0, stride=40)
    assert '"stride":40' in Segmenter(config=config).provenance.text()


def test_the_verdict_of_a_result_is_the_capture_verdict_whatever_the_working_size():
    """Limits calibrated at the bundled model's working size and channel: a segmenter of
    another measured the photograph at its own, and a frame assess_capture calls blurred read
    'ok' at 300 or 1000 pixels across."""
    frame = synthetic_fundus(584, 565)  # seed 0: blurred
    captured = assess_capture(frame)
    assert [r.code for r in captured.reasons] == ["blurred"]
    for config in (
        SegmenterConfig(fov_diameter=300),
        SegmenterConfig(fov_diameter=1000),
        SegmenterConfig(channel="luma"),
    ):
        verdict = edge_runtime.Segmenter(config=config).segment(frame).verdict
        assert verdict.measurements == captured.measurements, config
        assert [r.code for r in verdict.reasons] == ["blurred"]


_AWAIT_CHILD = """
def await_child(pid):
    deadline = time.monotonic() + 15
    while not (ended := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            sys.exit("a forked child hung")
        time.sleep(0.02)
    if ended[1]:
        sys.exit(f"a forked child ended with {os.waitstatus_to_exitcode(ended[1])}")
"""
"""A script's function that waits for a forked child, and fails if it hangs or fails."""


_FORK_WHILE_SEGMENTING = (
    """
import os, signal, sys, threading, time
import numpy as np
from edge_runtime import RuntimeOptions, Segmenter
from edge_runtime.evaluation.synthetic import synthetic_fundus
"""
    + _AWAIT_CHILD
    + """

segmenter = Segmenter(RuntimeOptions(threads=int(sys.argv[1])))
photo = synthetic_fundus(200, 240, seed=0)
expected = segmenter.segment(photo).mask
stop = threading.Event()
busy = threading.Thread(target=lambda: [segmenter.segment(photo) for _ in iter(stop.is_set, True)])
busy.start()
time.sleep(0.3)
try:
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            os._exit(0 if np.array_equal(segmenter.segment(photo).mask, expected) else 3)
        await_child(pid)
finally:
    stop.set()  # a thread left segmenting as the process exits may abort it (see the test)
    busy.join()
"""
)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_process_forked_while_another_thread_segments_can_segment(threads):
    """The child inherited the model's lock held by a thread it does not have (and, with two
    interpreter threads, an interpreter whose worker threads it does not have): three forks
    in four hung for ever.

    The script ends its segmenting thread before it exits: Python before 3.14 ends a daemon
    thread still running at exit wherever it stands (python/cpython#87135), and one that stood
    in numpy's C++ np.unique (which np.percentile and np.union1d call, the field of view's
    detection among them until it sorted instead, test_ordered.py) aborted the process
    ("terminate called without an active exception", 6 exits in 2,400 while a daemon thread
    segmented), and native code elsewhere may still."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FORK_WHILE_SEGMENTING, str(threads)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


_FORK_WHILE_A_RESULT_IS_READ = (
    """
import os, signal, sys, threading, time
import numpy as np
from edge_runtime import Segmenter
from edge_runtime.evaluation.synthetic import synthetic_fundus
"""
    + _AWAIT_CHILD
    + """

started, release = threading.Event(), threading.Event()

class Held:
    def artery_probability(self, photo, prepared, work_probability):
        started.set()
        release.wait()
        return np.zeros_like(work_probability)

segmenter = Segmenter()
photo = synthetic_fundus(200, 240, seed=0)
held = segmenter.segment(photo)
held.artery_vein_model = Held()
reader = threading.Thread(target=lambda: held.artery_vein)
reader.start()
started.wait()
other = segmenter.segment(photo)
pid = os.fork()
if pid == 0:
    os._exit(0 if other.artery_vein is None else 3)
try:
    await_child(pid)
finally:
    release.set()
    reader.join()
"""
)


def test_a_process_forked_while_another_thread_reads_a_result_can_read_its_own():
    """Python before 3.12 holds one lock around every object's computation of a
    functools.cached_property: forked while a thread computed one result's arteries and veins,
    the child hung for ever at its first (its own result's; a thread's verdict or measurements
    alike), and the threads of one process waited for one another's."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FORK_WHILE_A_RESULT_IS_READ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", ["", "  "])
def test_a_blank_image_path_is_refused_as_blank(segmenter, path):
    """Path("") is the current folder: it was called ".: is a directory"."""
    with pytest.raises(InputError, match=rf"^got image path {path!r}, expected a file$"):
        segmenter.segment(path)


def test_a_model_named_by_any_path_is_read():
    """RuntimeOptions and an artery/vein model took any os.PathLike, the vessel model a str or
    Path alone: Segmenter(PurePosixPath(...)) was refused as 'got model PurePosixPath(...),
    expected a .tflite path'."""
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    entry = next(e for e in os.scandir(DEFAULT_MODEL.parent) if e.name == DEFAULT_MODEL.name)
    for given in (PurePosixPath(DEFAULT_MODEL), entry):
        assert Segmenter(given).runtime.model == str(DEFAULT_MODEL)


def test_a_pillow_image_too_small_is_named_by_its_file(segmenter, tmp_path):
    """Its docstring promised the image's file in every error; a small one was called 'image
    array: shape (40, 50, 3) is too small', which the caller never gave."""
    from PIL import Image

    path = tmp_path / "eye.png"
    Image.fromarray(synthetic_fundus(40, 50)).save(path)
    with Image.open(path) as image, pytest.raises(InputError) as refused:
        segmenter.segment(image)
    assert str(refused.value) == f"{path}: shape (40, 50, 3) is too small, each side needs 64"
    with pytest.raises(InputError, match=r"^image array: shape \(40, 50, 3\) is too small"):
        segmenter.segment(synthetic_fundus(40, 50))


def test_a_pillow_image_read_then_closed_is_taken_as_read(segmenter, tmp_path):
    """Read in a with block and closed: counting its pictures seeked the closed file and
    Pillow's ValueError escaped (it was taken before, as it is again)."""
    from PIL import Image

    for name, frames in (("eye.gif", 1), ("eyes.gif", 2)):
        with Image.open(_saved(tmp_path, name, frames)) as image:
            image.load()
        assert segmenter.segment(image).mask.shape == (200, 240)


def test_the_verdict_of_the_default_configuration_prepares_the_photograph_once(monkeypatch):
    """Kills M12 (Prepared records the tile as its working size) and M14 (always prepared
    again): the bundled model's configuration is what the limits were calibrated on."""
    result = edge_runtime.Segmenter().segment(synthetic_fundus(584, 565))
    assert (result.prepared.fov_diameter, result.prepared.channel) == (540.0, "green")

    def again(*args):
        raise AssertionError("prepared again for the verdict")

    monkeypatch.setattr(importlib.import_module("edge_runtime.verdict.assess"), "prepare", again)
    assert [r.code for r in result.verdict.reasons] == ["blurred"]


def test_the_bytes_of_a_file_are_no_path(segmenter, tmp_path):
    """Taken for a path, a PNG's bytes gave an error of 38 kB, over 179 lines."""
    buffer = io.BytesIO()
    Image.fromarray(synthetic_fundus(200, 240)).save(buffer, "PNG")
    with pytest.raises((TypeError, InputError)) as caught:
        segmenter.segment(buffer.getvalue())
    message = str(caught.value)
    assert "\n" not in message and len(message) < 500
    message.encode()  # no lone surrogate: printable to a UTF-8 terminal
