"""Folders of labelled photographs in every layout, the whole-photograph metrics, and eval on
them (checked against an independent computation)."""

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from PIL.PngImagePlugin import PngImageFile, PngInfo

from edge_runtime.cli.evaluate import _shown
from edge_runtime.cli.main import cli
from edge_runtime.contract.artery_vein_metrics import ArteryVeinScores
from edge_runtime.contract.evaluation_record import DatasetEvaluation, FailedPhoto, ScoredPhoto
from edge_runtime.contract.metrics import photo_scores, roc_auc
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.data.binary_image import as_binary
from edge_runtime.data.photos import (
    LAYOUTS,
    find_dataset,
    list_dataset,
    load_labelled,
    photo_holdout,
)
from edge_runtime.errors import InputError, OutputError
from edge_runtime.evaluation.photos import (
    ARTERY_VEIN_METRICS,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    METRICS,
    TRUE_POSITIVE,
    comparison_picture,
    write_summary,
)
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL, DEFAULT_MODEL
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.decode import stored_orientation
from edge_runtime.pipeline.segmenter import Segmenter


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_is_detected_and_read(tmp_path, layout, make_photo_dataset):
    dataset = find_dataset(make_photo_dataset(tmp_path, layout))
    assert dataset.layout == layout and len(dataset.photos) == 3
    loaded = load_labelled(dataset.photos[0])
    assert loaded.label.shape == loaded.photo.shape == (120, 130)
    assert loaded.label.dtype == bool and loaded.label.any()
    has_mask = layout in ("drive", "hrf", "generic")
    assert (loaded.fov is not None) == has_mask


def test_drive_training_and_test_folders_together(tmp_path, make_photo_dataset):
    make_photo_dataset(tmp_path / "training", "drive")
    make_photo_dataset(tmp_path / "test", "drive")
    photos = find_dataset(tmp_path).photos
    assert len(photos) == 6
    # the same names (01_test...) in both folders: which one a score is of cannot be told
    first = tmp_path / "training" / "images" / "01_test.tif"
    assert photos[0].problem == (
        f"{first}: got 2 photographs named '01_test' "
        f"({first} and {tmp_path / 'test' / 'images' / '01_test.tif'}), expected one"
    )
    assert all(photo.problem for photo in photos)


def test_drive_photographs_beside_its_training_and_test_folders_are_read(
    tmp_path, make_photo_dataset
):
    """A folder split by a `test/` (or `training/`) folder still has its own photographs and
    files read: they were dropped, and the mean was of the others only, without a word."""
    make_photo_dataset(tmp_path, "drive", count=2)
    test = make_photo_dataset(tmp_path / "test", "drive", count=3)
    for number in ("01", "02"):  # the test folder's own photograph: 03
        for path in (f"images/{number}_test.tif", f"mask/{number}_test_mask.gif"):
            (test / path).unlink()
        (test / "1st_manual" / f"{number}_manual1.gif").unlink()
    stray = tmp_path / "mask" / "09_test_mask.gif"  # beside them, a mask of no photograph
    shutil.copy(tmp_path / "mask" / "01_test_mask.gif", stray)
    photos = find_dataset(tmp_path).photos
    assert sorted(str(photo.image.relative_to(tmp_path)) for photo in photos) == [
        "images/01_test.tif",
        "images/02_test.tif",
        "test/images/03_test.tif",
    ]
    assert not any(photo.problem for photo in photos)
    assert LAYOUTS["drive"].unmatched(tmp_path) == [stray]


@pytest.mark.parametrize("differing", [None, "1st_manual/02_manual1.gif", "mask/02_test_mask.gif"])
def test_drive_photographs_copied_to_its_top_level_are_read_once(
    tmp_path, make_photo_dataset, differing
):
    """A DRIVE copy whose top level holds its test/ folder merged (the same files, byte for
    byte): each photograph is read once, from test/; they were all refused as named twice.
    One whose label or mask differs from its namesake's is still refused: which is right cannot
    be told."""
    test = make_photo_dataset(tmp_path / "test", "drive", count=3)
    for folder in ("images", "1st_manual", "mask"):
        shutil.copytree(test / folder, tmp_path / folder)
    if differing:
        with Image.open(tmp_path / differing) as picture:
            changed = np.array(picture)
        changed[:, :20] = 0
        Image.fromarray(changed).save(tmp_path / differing)
    photos = {
        str(photo.image.relative_to(tmp_path)): photo for photo in find_dataset(tmp_path).photos
    }
    refused = {name for name, photo in photos.items() if photo.problem}
    if differing is None:
        assert sorted(photos) == [f"test/images/0{n}_test.tif" for n in (1, 2, 3)]
        assert not refused
    else:
        assert sorted(photos) == ["images/02_test.tif"] + [
            f"test/images/0{n}_test.tif" for n in (1, 2, 3)
        ]
        assert refused == {"images/02_test.tif", "test/images/02_test.tif"}
        assert "got 2 photographs named '02_test'" in photos["images/02_test.tif"].problem


def test_a_drive_copy_in_other_letter_case_is_read_once(tmp_path, make_photo_dataset):
    """Names keep their letter case: a top-level 01_TEST.tif, test/'s 01_test.tif copied (and
    02_test.tif, test/'s 02_TEST.tif), must still be taken for its copy (mutants comparing the
    names as written refused both)."""
    test = make_photo_dataset(tmp_path / "test", "drive", count=2)
    for folder in ("images", "1st_manual", "mask"):
        shutil.copytree(test / folder, tmp_path / folder)
    (tmp_path / "images" / "01_test.tif").rename(tmp_path / "images" / "01_TEST.tif")
    (test / "images" / "02_test.tif").rename(test / "images" / "02_TEST.tif")
    photos = find_dataset(tmp_path).photos
    assert [str(p.image.relative_to(tmp_path)) for p in photos] == [
        "test/images/01_test.tif",
        "test/images/02_TEST.tif",
    ]
    assert not any(photo.problem for photo in photos)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_photograph_in_capitals_keeps_its_name_and_its_files_in_every_layout(
    tmp_path, make_photo_dataset, layout
):
    """A name kept in its file's letter case (01_TEST, as segment names it) must still find its
    label, mask and artery/vein label, named in lower case, in every layout (mutants looking
    them up by the name as written, or lower-casing HRF's name, survived)."""
    root = make_photo_dataset(tmp_path, layout, count=2)
    labels_av = {"drive": root / "AV" / "01_test.png", "generic": root / "labels-av" / "eye1.png"}
    if layout in labels_av:
        labels_av[layout].parent.mkdir()
        labels_av[layout].write_bytes(b"")  # listed, not read
    before = list_dataset(root).photos[0]
    upper = before.image.with_name(before.image.stem.upper() + before.image.suffix.upper())
    before.image.rename(upper)
    after = list_dataset(root).photos[0]
    assert after == dataclasses.replace(before, name=upper.stem, image=upper)
    assert after.label and not after.problem and after.name != after.name.lower()
    assert (after.artery_vein is not None) == (layout in labels_av)


@pytest.mark.parametrize(
    "change", ["artery-vein", "two-artery-vein", "same-size-and-time", "no-mask", "dangling"]
)
def test_a_top_level_photograph_not_its_namesakes_copy_is_still_refused(
    tmp_path, make_photo_dataset, change
):
    """Each of its files is compared byte for byte with its namesake's: another artery/vein
    label, another label of the same size and time, a mask missing, a label that is a link to
    nothing (a card not mounted) are not copies, and both photographs are refused. One with two
    artery/vein labels, whose namesake has none, was dropped, and its labels with it, unsaid."""
    test = make_photo_dataset(tmp_path / "test", "drive", count=2)
    for folder in ("images", "1st_manual", "mask"):
        shutil.copytree(test / folder, tmp_path / folder)
    label = tmp_path / "1st_manual" / "02_manual1.gif"
    if change == "artery-vein":
        for root, red in ((test, 0), (tmp_path, 255)):
            (root / "AV").mkdir()
            Image.new("RGB", (8, 8), (red, 0, 0)).save(root / "AV" / "02_test.png")
    elif change == "two-artery-vein":
        (tmp_path / "AV").mkdir()
        for suffix in (".png", ".gif"):
            Image.new("RGB", (8, 8)).save(tmp_path / "AV" / f"02_test{suffix}")
    elif change == "same-size-and-time":
        content = bytearray(label.read_bytes())
        content[-2] ^= 1
        label.write_bytes(content)
        shutil.copystat(test / "1st_manual" / "02_manual1.gif", label)
    elif change == "no-mask":
        (tmp_path / "mask" / "02_test_mask.gif").unlink()
    else:
        label.unlink()
        label.symlink_to(tmp_path / "nowhere.gif")
    photos = find_dataset(tmp_path).photos
    refused = sorted(str(photo.image.relative_to(tmp_path)) for photo in photos if photo.problem)
    assert len(photos) == 3 and refused == ["images/02_test.tif", "test/images/02_test.tif"]


@pytest.mark.parametrize("name", ["(mean of 2)", "(mean over)", "(MEAN OF 2)", "(Mean Over)"])
def test_a_photograph_named_as_a_summary_row_of_means_is_refused(
    tmp_path, make_photo_dataset, name
):
    """Its row in summary.csv and summary.md was one more named so, beside the mean's (in
    capitals too: names are compared whatever their letter case, and a spreadsheet's lookup
    would take one for the other)."""
    root = make_photo_dataset(tmp_path, "generic", count=2)
    for folder in ("images", "labels", "masks"):
        (file,) = (root / folder).glob("eye1.*")
        file.rename(file.with_name(name + file.suffix))
    photos = {photo.name: photo for photo in find_dataset(root).photos}
    image = root / "images" / f"{name}.png"
    assert photos[name].problem == (
        f"{image}: named {name!r}, as eval's summaries name a row of means (its scores could "
        "not be told from theirs): rename it"
    )
    assert photos["eye2"].problem is None


def _twin(path: Path, name: str | None = None) -> Path:
    """A copy of a file beside it, under its name in capitals (or ``name``)."""
    twin = path.with_name(name or path.name.upper())
    if twin.exists():
        pytest.skip("the file system ignores letter case")
    shutil.copy(path, twin)
    return twin


def _refused(photo) -> str:
    with pytest.raises(InputError) as refused:
        load_labelled(photo)
    assert "\n" not in str(refused.value)
    return str(refused.value)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_label_in_two_letter_cases_is_refused_naming_both(tmp_path, layout, make_photo_dataset):
    root = make_photo_dataset(tmp_path, layout)
    label = find_dataset(root).photos[0].label
    twin = _twin(label)
    photos = find_dataset(root).photos
    assert [photo.problem is None for photo in photos] == [False, True, True]
    assert _refused(photos[0]) == (
        f"{photos[0].image}: got 2 labels for it ({twin} and {label}), expected one"
    )
    load_labelled(photos[1])


@pytest.mark.parametrize("layout", ["drive", "hrf", "generic"])
def test_a_mask_in_two_letter_cases_is_refused_naming_both(tmp_path, layout, make_photo_dataset):
    root = make_photo_dataset(tmp_path, layout)
    mask = find_dataset(root).photos[2].mask
    twin = _twin(mask)
    photos = find_dataset(root).photos
    assert (
        _refused(photos[2])
        == f"{photos[2].image}: got 2 masks for it ({twin} and {mask}), expected one"
    )
    assert [photo.problem is None for photo in photos] == [True, True, False]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_photographs_sharing_a_name_are_refused_naming_both(tmp_path, layout, make_photo_dataset):
    root = make_photo_dataset(tmp_path, layout)
    image = find_dataset(root).photos[1].image
    twin = _twin(image)
    photos = find_dataset(root).photos
    assert len(photos) == 4 and [p.problem is None for p in photos] == [True, False, False, True]
    for photo in photos[1:3]:
        assert f"2 photographs named '{photo.name}' ({twin} and {image})" in _refused(photo)


def test_a_label_in_two_formats_is_refused_naming_both(tmp_path, make_photo_dataset):
    """p05.gif beside p05.png: one of them used to be scored, whichever came last."""
    root = make_photo_dataset(tmp_path, "generic")
    label = root / "labels" / "eye2.png"
    gif = label.with_suffix(".gif")
    Image.open(label).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(gif)  # another drawing
    photo = find_dataset(root).photos[1]
    assert (
        _refused(photo) == f"{photo.image}: got 2 labels for it ({gif} and {label}), expected one"
    )


def test_chase_photographs_of_one_name_in_two_folders_are_refused(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path, "chase")
    (root / "copy").mkdir()
    twin = shutil.copy(root / "photos" / "Image_03L.jpg", root / "copy")
    photos = find_dataset(root).photos
    assert [p.name for p in photos] == ["Image_01L", "Image_02L", "Image_03L", "Image_03L"]
    assert f"({twin} and {root / 'photos' / 'Image_03L.jpg'})" in _refused(photos[2])


def test_a_mask_with_nothing_outside_is_refused_not_scored_over_the_frame(
    tmp_path, make_photo_dataset
):
    """A mask exported 1/255 (outside 1) was taken as the whole frame: GAVE g_001's
    specificity 0.953 read 0.962 and its AUC 0.954 read 0.961, the black corners scored. Its
    near-black outside is now its outside; a mask with no outside at all is refused."""
    root = make_photo_dataset(tmp_path, "generic")
    mask = root / "masks" / "eye1.bmp"
    inside = np.asarray(Image.open(mask)) > 0
    assert not inside.all()  # the fixture's mask has an outside
    Image.fromarray(np.where(inside, 255, 1).astype(np.uint8)).save(mask)
    np.testing.assert_array_equal(load_labelled(find_dataset(root).photos[0]).fov, inside)
    Image.fromarray(np.where(inside, 255, 9).astype(np.uint8)).save(mask)  # grey, not black
    assert _refused(find_dataset(root).photos[0]) == (
        f"{mask}: no pixel outside the field of view (0), expected a disc: its outside is "
        "another value, not black (grey?), or it covers the whole frame (then give no mask)"
    )


def test_a_label_whose_black_is_not_zero_is_read_by_its_near_black(tmp_path, make_photo_dataset):
    """DRIVE's second observer's labels are palette GIFs whose black is (4, 2, 4): every pixel
    was read as vessel, and measure and eval refused them as covering the whole field."""
    root = make_photo_dataset(tmp_path, "generic")
    photo = find_dataset(root).photos[0]
    vessels = np.asarray(Image.open(photo.label)) > 0
    gif = Image.fromarray(vessels.astype(np.uint8), "P")
    gif.putpalette([4, 2, 4, 252, 254, 252])
    gif.save(photo.label.with_suffix(".gif"))
    photo.label.unlink()
    np.testing.assert_array_equal(load_labelled(find_dataset(root).photos[0]).label, vessels)
    for colour, read in [((4, 2, 4), vessels), ((9, 0, 0), np.ones_like(vessels))]:
        pixels = np.where(vessels[..., None], 255, np.array(colour, np.uint8)).astype(np.uint8)
        np.testing.assert_array_equal(as_binary(pixels, photo.label, "label"), read)
    sixteen = np.where(vessels, 65535, 1028).astype(np.uint16)  # 4 of 255, on 16 bits
    np.testing.assert_array_equal(as_binary(sixteen, photo.label, "label"), vessels)


def test_a_mask_with_nothing_inside_or_a_label_without_vessels_is_refused(
    tmp_path, make_photo_dataset
):
    root = make_photo_dataset(tmp_path, "generic")
    blank = np.zeros((120, 130), np.uint8)
    Image.fromarray(blank).save(root / "masks" / "eye1.bmp")
    Image.fromarray(blank).save(root / "labels" / "eye2.png")
    photos = find_dataset(root).photos
    assert _refused(photos[0]) == (
        f"{root / 'masks' / 'eye1.bmp'}: no pixel inside the field of view, expected a disc"
    )
    assert _refused(photos[1]) == (
        f"{root / 'labels' / 'eye2.png'}: no vessel pixel inside the field of view of "
        f"{root / 'masks' / 'eye2.bmp'}, expected some to score"
    )


def test_labels_are_turned_upright_with_their_photograph_and_alpha_is_ignored(tmp_path):
    root = tmp_path / "d"
    for folder in ("images", "labels"):
        (root / folder).mkdir(parents=True)
    photo = np.zeros((64, 96, 3), np.uint8)
    label = np.zeros((64, 96), np.uint8)
    label[:8, :8] = 255  # a vessel in the stored top left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # turned a quarter clockwise to be upright
    Image.fromarray(photo).save(root / "images" / "eye.png", exif=exif.tobytes())
    opaque = np.dstack([label, label, label, np.full_like(label, 255)])  # RGBA, opaque all over
    Image.fromarray(opaque).save(root / "labels" / "eye.png", exif=exif.tobytes())
    loaded = load_labelled(find_dataset(root).photos[0])
    assert loaded.photo.shape == loaded.label.shape == (96, 64)
    assert loaded.label.sum() == 64 and loaded.label[:8, -8:].all()  # now top right


def test_bad_datasets_name_the_file(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path / "d", "generic")
    (root / "labels" / "eye2.png").unlink()
    photos = find_dataset(root).photos  # listed, with the problem that loading it raises
    assert [p.problem is None for p in photos] == [True, False, True]
    with pytest.raises(
        InputError, match=r"eye2.png: no label for this photograph \(expected .*/labels/eye2\.\*\)"
    ):
        load_labelled(photos[1])
    root = make_photo_dataset(tmp_path / "e", "generic")
    Image.fromarray(np.zeros((50, 60), np.uint8)).save(root / "labels" / "eye2.png")
    dataset = find_dataset(root)
    with pytest.raises(InputError, match=r"eye2.png: 60x50 pixels, but the photograph is 130x120"):
        load_labelled(dataset.photos[1])
    (root / "masks" / "eye3.bmp").write_text("not an image")
    with pytest.raises(InputError, match=r"eye3.bmp: cannot read the mask"):
        load_labelled(dataset.photos[2])
    with pytest.raises(InputError, match="no labelled photographs found"):
        find_dataset(tmp_path / "d" / "images")


def test_roc_auc_agrees_with_counting_pairs():
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = np.round(rng.random(200), 1)  # many ties
        truth = rng.random(200) < 0.3
        pos, neg = scores[truth], scores[~truth]
        pairs = (pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()
        assert roc_auc(scores, truth) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)
    assert roc_auc(np.ones(4), np.zeros(4)) is None


def test_photo_scores_on_a_hand_made_case():
    probability = np.array([[0.9, 0.8, 0.2], [0.1, 0.6, 0.0]])
    label = np.array([[1, 0, 1], [0, 1, 0]])
    fov = np.array([[1, 1, 1], [1, 1, 0]], dtype=bool)  # the last pixel does not count
    scores = photo_scores(probability, label, fov, 0.5)
    # inside: TP 2 (0.9, 0.6), FP 1 (0.8), FN 1 (0.2), TN 1 (0.1)
    assert scores.f1 == pytest.approx(4 / 6)
    assert scores.sensitivity == pytest.approx(2 / 3) and scores.specificity == pytest.approx(0.5)
    assert scores.accuracy == pytest.approx(3 / 5)
    assert scores.auc == pytest.approx(4 / 6)  # of 6 vessel/background pairs, 4 ordered right


def _independent_metrics(probability, label, fov, threshold) -> dict:
    """The same metrics another way: counts from sets of pixels, AUC by the trapezoid rule over
    the ROC curve's distinct thresholds."""
    p, t = probability[fov], label[fov].astype(bool)
    predicted = p >= threshold
    tp, fp = np.sum(predicted & t), np.sum(predicted & ~t)
    fn, tn = np.sum(~predicted & t), np.sum(~predicted & ~t)
    order = np.argsort(-p, kind="stable")
    ends = np.r_[np.flatnonzero(np.diff(p[order])), len(p) - 1]  # last of each distinct score
    tpr = np.r_[0, np.cumsum(t[order])[ends]] / t.sum()
    fpr = np.r_[0, np.cumsum(~t[order])[ends]] / (~t).sum()
    return {
        "f1": 2 * tp / (2 * tp + fp + fn),
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "accuracy": (tp + tn) / t.size,
        "auc": float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2)),
    }


def test_eval_on_drive_photographs_agrees_with_an_independent_computation(dev_npz, tmp_path):
    drive = dev_npz.parent / "drive"
    root = tmp_path / "drive"
    for folder, pattern in (
        ("images", "1[78]_test.tif"),
        ("1st_manual", "1[78]_manual1.gif"),
        ("mask", "1[78]_test_mask.gif"),
    ):
        (root / folder).mkdir(parents=True)
        for path in (drive / folder).glob(pattern):
            shutil.copy(path, root / folder)
    result = CliRunner().invoke(cli, ["eval", str(root), "--json", "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 2 and [p["name"] for p in report["photos"]] == ["17_test", "18_test"]
    segmenter = Segmenter()
    for photo, scored in zip(find_dataset(root).photos, report["photos"], strict=True):
        loaded = load_labelled(photo)
        result = segmenter.segment(loaded.photo)
        expected = _independent_metrics(
            result.probability, loaded.label, loaded.fov, segmenter.threshold
        )
        for metric, value in expected.items():
            assert scored[metric] == pytest.approx(value, abs=0.001), metric
    for metric in expected:
        mean = np.mean([p[metric] for p in report["photos"]])
        assert report["mean"][metric] == pytest.approx(mean, abs=1e-12)
    assert 0.7 < report["mean"]["f1"] < 0.9 and report["mean"]["auc"] > 0.95
    written = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert written == [
        "17_test_comparison.png",
        "18_test_comparison.png",
        "summary.csv",
        "summary.md",
    ]
    assert (tmp_path / "r" / "summary.csv").read_text().splitlines()[0] == (
        "name,photograph,error,f1,sensitivity,specificity,accuracy,auc,"
        + ",".join(PROVENANCE_COLUMNS)
    )


def test_eval_of_an_npz_still_needs_its_arrays(dev_npz):
    result = CliRunner().invoke(cli, ["eval", str(dev_npz)])
    assert result.exit_code == 2 and "needs --images and --labels" in result.output


def test_eval_holdout_scores_the_photographs_training_held_out(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path / "d", "generic")
    result = CliRunner().invoke(cli, ["eval", str(root), "--holdout", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    held = [find_dataset(root).photos[i].name for i in photo_holdout(3, 0.2)]
    assert [p["name"] for p in json.loads(result.stdout)["photos"]] == held == ["eye2"]


NPZ_ARRAYS = ["--images", "x", "--labels", "y"]
"""The arrays of :func:`_npz`'s files, as eval is given them."""

HOLDOUT_SPELLED = b'"epochs": 40, "holdout": 0.2'
"""How the bundled model's card spells the share its run held out (its gate's is another)."""


def _holdout_data(tmp_path: Path, make_photo_dataset) -> list[tuple[str, list]]:
    """What --holdout selects, and eval's arguments, for each kind of data: photographs (with
    --av too: synthetic photographs have no artery/vein label to score) and an .npz file's
    patches."""
    root = make_photo_dataset(tmp_path / "d", "generic")
    npz = _npz(tmp_path / "p.npz", 40)
    return [
        ("photographs", [root]),
        ("photographs", [root, "--av"]),
        ("patches", [npz, *NPZ_ARRAYS]),
    ]


def test_eval_refuses_a_holdout_other_than_the_share_the_model_s_card_records(
    tmp_path, make_photo_dataset
):
    """eval --holdout 0.3 of a model whose run held out 0.2 scored photographs and patches it
    trained on and printed their scores as held out; the card's share is scored, silently."""
    given = _holdout_data(tmp_path, make_photo_dataset)
    for unit, data in given:
        result = _eval(*data, "--holdout", "0.3", "--json", expect=2)
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: --holdout 0.3: the card of {DEFAULT_MODEL} says its run held out 0.2, so "
            f"eval would score {unit} it may have trained on as held out (a share is taken only "
            "if it is the run's exactly); give --holdout 0.2, or score without it on data the "
            "run never saw\n"
        )
    for _, data in given:
        if "--av" not in data:
            result = _eval(*data, "--holdout", "0.2", "--json", expect=0)
            assert result.stderr == "" and json.loads(result.stdout)["n"]


def test_eval_holdout_0_holds_nothing_out_whatever_the_card_records(tmp_path, make_photo_dataset):
    """--holdout 0 scores every photograph or patch, none of them as held out: taken without a
    word of the card's share (0.2), as eval without --holdout is."""
    for _, data in _holdout_data(tmp_path, make_photo_dataset):
        if "--av" not in data:
            every = json.loads(_eval(*data, "--json", expect=0).stdout)["n"]
            result = _eval(*data, "--holdout", "0", "--json", expect=0)
            assert result.stderr == "" and json.loads(result.stdout)["n"] == every > 1


def test_eval_refuses_any_holdout_of_a_model_trained_on_all_of_its_data(
    tmp_path, make_photo_dataset, recarded_model
):
    """A card recording holdout 0: its run held nothing out, so no share is held out."""
    model = recarded_model(
        tmp_path / "all.tflite", HOLDOUT_SPELLED, b'"epochs": 40, "holdout": 0.0'
    )
    for unit, data in _holdout_data(tmp_path, make_photo_dataset):
        result = _eval(*data, "--model", model, "--holdout", "0.2", expect=2)
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: --holdout 0.2: the card of {model} says its run held nothing out (train "
            f"--holdout 0), so eval would score {unit} it may have trained on as held out; "
            "score without it on data the run never saw\n"
        )


def test_eval_warns_that_a_holdout_a_card_does_not_record_is_taken_unchecked(
    tmp_path, make_photo_dataset, recarded_model
):
    """A card without the share (older cards): the holdout is scored, with a one-line warning."""
    model = recarded_model(
        tmp_path / "old.tflite", HOLDOUT_SPELLED, b'"epochs": 40, "holdout":null'
    )
    for unit, data in _holdout_data(tmp_path, make_photo_dataset):
        if "--av" not in data:
            result = _eval(*data, "--model", model, "--holdout", "0.3", "--json", expect=0)
            assert json.loads(result.stdout)["n"]
            assert result.stderr == (
                f"warning: --holdout 0.3: nothing says what {model} held out in training (its "
                f"card does not record it), so eval takes the {unit} it selects as held out, "
                "unchecked\n"
            )


ARTERY_VEIN_HOLDOUT_SPELLED = b'"epochs": 16, "holdout": null'
"""How the bundled artery/vein model's card spells its run's share: not at all (converted before
cards recorded it; train-artery-vein holds nothing out)."""

ARTERY_VEIN_WAY_OUT = (
    "leave out --av to score vessels alone on the holdout, or score the artery/vein model "
    "without it on data the run never saw\n"
)
"""How a refused eval --av --holdout ends."""


@pytest.mark.parametrize(
    ("respelled", "said"),
    [
        (
            None,
            "the card of the artery/vein model {model}, which records no share, says its run "
            "held nothing out (train-artery-vein has no --holdout), so eval would score "
            "photographs it may have trained on as held out; ",
        ),
        (
            b'"epochs": 16, "holdout": 0.00',
            "the card of the artery/vein model {model} says its run held nothing out "
            "(train-artery-vein has no --holdout), so eval would score photographs it may have "
            "trained on as held out; ",
        ),
        (
            b'"epochs": 16, "holdout": 0.30',
            "the card of the artery/vein model {model} says its run held out 0.3, so eval would "
            "score photographs it may have trained on as held out (a share is taken only if it "
            "is the run's exactly); give --holdout 0.3, or ",
        ),
    ],
    ids=["bundled-no-share", "held-nothing-out", "another-share"],
)
def test_eval_av_refuses_a_holdout_of_photographs_the_artery_vein_model_trained_on(
    tmp_path, make_photo_dataset, recarded_model, respelled, said
):
    """eval --av --holdout 0.2 checked the vessel model's card alone (it held out 0.2) and
    scored the arteries and veins of photographs the artery/vein model trained on as held out:
    DRIVE's 3 with the bundled models, accuracy 0.9523 (0.827 with DRIVE left out). Its card
    is checked too: one that records 0, or none (train-artery-vein holds nothing out: the
    bundled model's), refuses any holdout, one that records another share refuses it."""
    model = ARTERY_VEIN_MODEL
    if respelled:
        spelled = ARTERY_VEIN_HOLDOUT_SPELLED
        model = recarded_model(tmp_path / "av.tflite", spelled, respelled, ARTERY_VEIN_MODEL)
    root = make_photo_dataset(tmp_path / "d", "generic")
    result = _eval(root, "--av-model", model, "--holdout", "0.2", "--json", expect=2)
    assert result.stdout == ""
    assert result.stderr == (
        "Error: --holdout 0.2: " + said.format(model=model) + ARTERY_VEIN_WAY_OUT
    )


@pytest.mark.parametrize(
    ("respelled", "holdout"),
    [(b'"epochs": 16, "holdout": 0.20', "0.2"), (None, "0")],
    ids=["the-card-s-share", "holds-nothing-out"],
)
def test_eval_av_takes_the_artery_vein_card_s_share_and_holdout_0(
    tmp_path, make_photo_dataset, recarded_model, respelled, holdout
):
    """The share an artery/vein card records is taken, and --holdout 0 (none held out) from any
    card: both reach the photographs (these have no artery/vein label to score)."""
    model = ARTERY_VEIN_MODEL
    if respelled:
        spelled = ARTERY_VEIN_HOLDOUT_SPELLED
        model = recarded_model(tmp_path / "av.tflite", spelled, respelled, ARTERY_VEIN_MODEL)
    root = make_photo_dataset(tmp_path / "d", "generic")
    result = _eval(root, "--av-model", model, "--holdout", holdout, expect=1)
    assert result.stderr == (
        f"warning: {root}: nothing to evaluate: no artery/vein labels (labels-av/, AV/) to "
        "score --av on\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{folder}", "--images", "x"], "a folder of photographs takes no --images"),
        (
            ["{npz}", "--images", "x", "--labels", "y", "--layout", "drive", "--jobs", "2"],
            "an .npz file takes no --layout or --jobs",
        ),
        # its patches are grayscale already: --channel luma was taken, changed nothing and was
        # recorded in the provenance's config as the channel in effect
        (
            ["{npz}", "--images", "x", "--labels", "y", "--channel", "luma"],
            "an .npz file takes no --channel",
        ),
        (["{folder}/missing"], "missing: no such file or folder"),
    ],
)
def test_eval_refuses_a_missing_path_and_options_that_do_not_apply(
    tmp_path, make_photo_dataset, args, message
):
    folder = make_photo_dataset(tmp_path / "d", "generic")
    npz = tmp_path / "d.npz"
    npz.write_bytes(b"")
    args = [a.format(folder=folder, npz=npz) for a in args]
    result = CliRunner().invoke(cli, ["eval", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def _eval(*args, expect: int):
    result = CliRunner().invoke(cli, ["eval", *map(str, args)])
    assert result.exit_code == expect, result.output
    assert "Traceback" not in result.output
    return result


def test_eval_names_a_photograph_as_its_file_is_named_whatever_the_letter_case(
    tmp_path, make_photo_dataset
):
    """IMG_0001.JPG was scored as img_0001 (its JSON record, its summary row, its picture),
    where segment names its mask IMG_0001_mask.png: a study joining the two on the name
    matched none of a camera's upper-case photographs. Its label is still found in any case."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    for path in root.glob("images/eye1.*"):
        path.rename(path.with_name("EYE1" + path.suffix.upper()))
    report = tmp_path / "r"
    result = _eval(root, "--report", report, "--json", expect=0)
    assert [p["name"] for p in json.loads(result.stdout)["photos"]] == ["EYE1", "eye2"]
    with open(report / "summary.csv", newline="") as f:
        assert [row["name"] for row in csv.DictReader(f)][:2] == ["EYE1", "eye2"]
    assert (report / "EYE1_comparison.png").is_file()


def test_eval_names_each_photograph_by_its_file_name_as_the_other_outputs_do(
    tmp_path, make_photo_dataset
):
    """eval named a photograph by its stem alone (05_test) in its JSON record and summary.csv
    row (whose column of stems was headed photograph), where segment, verdict, watch and
    measure give its file name as ``photograph`` (05_test.tif): a study joining the outputs on
    it lost eval's. Its failures are named too; the stem is still ``name``."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=3)
    for path in root.glob("images/eye1.*"):
        path.rename(path.with_name("EYE1.PNG"))  # the file name, as written, not the stem
    (root / "images" / "eye3.png").write_text("not an image")
    report = tmp_path / "r"
    evaluation = json.loads(_eval(root, "--report", report, "--json", expect=1).stdout)
    assert [(p["name"], p["photograph"]) for p in evaluation["photos"]] == [
        ("EYE1", "EYE1.PNG"),
        ("eye2", "eye2.png"),
    ]
    assert [(p["name"], p["photograph"]) for p in evaluation["failed"]] == [("eye3", "eye3.png")]
    with open(report / "summary.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["name", "photograph", "error"]
    assert [row[:2] for row in rows[1:]] == [
        ["EYE1", "EYE1.PNG"],
        ["eye2", "eye2.png"],
        ["eye3", "eye3.png"],
        ["(mean of 2)", ""],
        ["(mean over)", ""],
    ]


def test_eval_report_folder_holds_one_run_s_report(tmp_path, make_photo_dataset):
    """eval --report into a folder of an earlier report left that run's pictures of photographs
    the new run did not score beside its own; what the user keeps there stays, a picture named
    like one of the report's included (not drawn by edge-seg, or a link to one it drew)."""
    three = make_photo_dataset(tmp_path / "three", "generic", count=3)
    one = make_photo_dataset(tmp_path / "one", "generic", count=1)
    report = tmp_path / "r"
    _eval(three, "--report", report, expect=0)
    shutil.copy(report / "eye2_comparison.png", tmp_path / "kept.png")
    (report / "linked_comparison.png").symlink_to(tmp_path / "kept.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(report / "mine_comparison.png")
    (report / "notes.txt").write_text("mine")
    mine = ["linked_comparison.png", "mine_comparison.png", "notes.txt"]
    _eval(one, "--report", report, expect=0)
    written = ["eye1_comparison.png", "summary.csv", "summary.md"]
    assert sorted(p.name for p in report.iterdir()) == sorted(mine + written)


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (["--model", "none.tflite"], 2, "Error: none.tflite: no such model file"),
        (["--holdout", "0.2"], 1, "nothing to evaluate: --holdout 0.2 of 1 photograph holds"),
        (["--holdout", "0.1"], 2, "--holdout 0.1: the card of"),
        (["--av"], 1, "nothing to evaluate: no artery/vein labels (labels-av/, AV/) to score"),
        (["--av", "--holdout", "0.2"], 2, "--holdout 0.2: the card of the artery/vein model"),
    ],
    ids=[
        "mistyped-model",
        "holds-none-out",
        "another-holdout",
        "no-artery-vein-labels",
        "artery-vein-holdout",
    ],
)
def test_an_eval_refused_before_it_starts_leaves_the_earlier_report_as_it_was(
    tmp_path, make_photo_dataset, monkeypatch, args, status, said
):
    """A run refused on its model or its photographs removed the earlier report as it started,
    leaving the user none (a run that fails once started still leaves none: see the summary
    that cannot be written); a folder that was not there is not made."""
    monkeypatch.chdir(tmp_path)
    one = make_photo_dataset(tmp_path / "one", "generic", count=1)
    _eval(one, "--report", "r", expect=0)
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert len(before) == 3
    result = _eval(one, "--report", "r", *args, expect=status)
    assert said in result.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before
    _eval(one, "--report", tmp_path / "new" / "r", *args, expect=status)
    assert not (tmp_path / "new").exists()


def test_a_report_of_files_alone_leaves_the_pictures_this_package_drew(
    tmp_path, make_photo_dataset
):
    """check's report (files, no picture per photograph) prepared in a folder leaves every
    picture edge-seg drew there, whatever it is named: only its own files go."""
    from edge_runtime.app.files import prepare_report

    report = tmp_path / "r"
    _eval(make_photo_dataset(tmp_path / "d", "generic", count=1), "--report", report, expect=0)
    prepare_report(report, ("summary.csv", "report.json"))
    assert sorted(p.name for p in report.iterdir()) == ["eye1_comparison.png", "summary.md"]


def test_an_earlier_report_file_that_cannot_be_removed_is_named(tmp_path, monkeypatch):
    """The error names the file of the earlier report that stays, not only its folder."""
    from edge_runtime.app.files import prepare_report

    (tmp_path / "summary.csv").write_text("earlier")

    def refused(path, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "unlink", refused)
    with pytest.raises(OutputError) as raised:
        prepare_report(tmp_path, ("summary.csv", "summary.md"))
    assert str(raised.value) == (
        f"{tmp_path / 'summary.csv'}: cannot remove the earlier report (Permission denied)"
    )


def test_a_report_picture_that_cannot_be_written_keeps_the_photograph_s_scores(
    tmp_path, make_photo_dataset
):
    """A picture that could not be written (a full disk; here a folder in its way) listed the
    photograph as failed and left its scores out of the mean."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    report = tmp_path / "r"
    (report / "eye1_comparison.png").mkdir(parents=True)
    result = _eval(root, "--report", report, "--json", expect=1)
    evaluation = json.loads(result.stdout)
    assert evaluation["n"] == 2 and not evaluation["failed"]
    said = f"{report / 'eye1_comparison.png'}: cannot write (is a folder, not a file to write)"
    assert [p["report_error"] for p in evaluation["photos"]] == [said, None]
    assert result.stderr.splitlines() == [
        f"error: {said}",
        "Error: 1 of 2 report pictures could not be written",
    ]
    assert (report / "eye2_comparison.png").is_file()
    assert f"Pictures not written (1):\n\n- eye1: {said}\n" in (report / "summary.md").read_text()


def test_a_report_picture_that_cannot_be_drawn_keeps_the_photograph_s_scores(
    tmp_path, make_photo_dataset, monkeypatch
):
    """Drawing moved out of the scoring's guard once let a failure to draw end the run."""
    import edge_runtime.evaluation.photos as photos

    def out_of_memory(*args):
        raise MemoryError

    monkeypatch.setattr(photos, "comparison_picture", out_of_memory)
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    evaluation = json.loads(_eval(root, "--report", tmp_path / "r", "--json", expect=1).stdout)
    assert evaluation["n"] == 2
    assert all(": unexpected MemoryError" in p["report_error"] for p in evaluation["photos"])


def test_eval_scores_the_others_when_photographs_cannot_be_scored(tmp_path, make_photo_dataset):
    """A damaged label, an empty mask, a FIFO, a directory and a looping symbolic link named
    like photographs: each reported on one line and left out, the one good photograph scored
    and alone in the mean (an empty mask used to score 1.0 and be averaged in)."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=6)
    images, labels, masks = root / "images", root / "labels", root / "masks"
    (labels / "eye2.png").write_bytes((labels / "eye2.png").read_bytes()[:300])
    Image.fromarray(np.zeros((120, 130), np.uint8)).save(masks / "eye3.bmp")
    for name in ("eye4", "eye5", "eye6"):
        (images / f"{name}.png").unlink()
    os.mkfifo(images / "eye4.png")
    (images / "eye5.png").mkdir()
    (images / "eye6.png").symlink_to("eye6.png")
    result = _eval(root, "--json", "--report", tmp_path / "r", expect=1)
    report = json.loads(result.stdout)
    assert report["n"] == 1 and [p["name"] for p in report["photos"]] == ["eye1"]
    photo = report["photos"][0]
    assert report["mean"] == {k: photo[k] for k in METRICS}
    failed = {f["name"]: f["error"] for f in report["failed"]}
    assert failed == {
        "eye2": f"{labels / 'eye2.png'}: cannot read the label (image file is truncated)",
        "eye3": f"{masks / 'eye3.bmp'}: no pixel inside the field of view, expected a disc",
        "eye4": f"{images / 'eye4.png'}: not a regular file, expected an image file",
        "eye5": f"{images / 'eye5.png'}: is a directory, expected an image file",
        "eye6": f"{images / 'eye6.png'}: cannot be read (Too many levels of symbolic links)",
    }
    assert result.stderr.splitlines() == [
        *(f"error: {error}" for error in failed.values()),
        "Error: 5 of 6 photographs failed",
    ]
    summary = (tmp_path / "r" / "summary.md").read_text().splitlines()
    assert summary[-7:] == ["Not scored (5):", "", *(f"- {n}: {e}" for n, e in failed.items())]


def test_eval_prints_each_photograph_then_the_mean(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path / "d", "generic")
    text = _eval(root, expect=0).stdout.splitlines()
    report = json.loads(_eval(root, "--json", expect=0).stdout)
    assert len(text) == 4 and [line.split(":")[0] for line in text[:3]] == ["eye1", "eye2", "eye3"]
    for line, photo in zip(text, report["photos"], strict=False):
        assert line == f"{photo['name']}: " + ", ".join(
            f"{m} {'undefined' if photo[m] is None else format(photo[m], '.4f')}" for m in METRICS
        )
    assert report["counts"] == dict.fromkeys(METRICS, 3)
    specificity = np.mean([p["specificity"] for p in report["photos"]])
    assert report["mean"]["specificity"] == pytest.approx(specificity, abs=1e-12)
    assert text[3].startswith("mean of 3 photographs: f1 ") and "(over" not in text[3]
    assert f"specificity {specificity:.4f}," in text[3]


def test_a_mean_says_over_how_many_photographs_each_metric_is_defined():
    """A metric undefined on a photograph (here no background kept to score) is left out of
    its mean, which says so."""
    photos = [
        ScoredPhoto(0.8, 0.7, 0.98, 0.96, 0.97, name="a", photograph="a.png"),
        ScoredPhoto(0.6, 0.5, None, 0.95, None, name="b", photograph="b.png"),
    ]
    evaluation = DatasetEvaluation.of("m.tflite", 0.5, photos)
    assert evaluation.mean.specificity == 0.98 and evaluation.counts["specificity"] == 1
    shown = _shown(evaluation.mean, evaluation.counts, evaluation.n)
    assert "f1 0.7000, " in shown and "specificity 0.9800 (over 1)" in shown
    assert _shown(photos[1]).endswith("specificity undefined, accuracy 0.9500, auc undefined")


@pytest.mark.parametrize("kind", ["inverted", "every pixel vessel"])
def test_eval_refuses_an_inverted_label_rather_than_scoring_it(tmp_path, make_photo_dataset, kind):
    """A white-background label once scored f1 0.09 and lowered the mean without a word."""
    root = make_photo_dataset(tmp_path / "d", "generic")
    label = root / "labels" / "eye3.png"
    pixels = np.asarray(Image.open(label))
    Image.fromarray(255 - pixels if kind == "inverted" else np.full_like(pixels, 255)).save(label)
    report = json.loads(_eval(root, "--json", expect=1).stdout)
    assert [p["name"] for p in report["photos"]] == ["eye1", "eye2"]
    [failed] = report["failed"]
    assert failed["name"] == "eye3" and failed["error"].startswith(f"{label}: vessels cover ")
    assert "white background" in failed["error"]


@pytest.mark.parametrize("kind", ["checkerboard", "dithered"])
def test_eval_refuses_a_label_of_noise_rather_than_scoring_it(tmp_path, make_photo_dataset, kind):
    """A checkerboard label was scored (f1 0.18, AUC 0.50) into the mean without a word; a soft
    label saved as 1-bit (Pillow dithers it) would be too."""
    root = make_photo_dataset(tmp_path / "d", "generic")
    label = root / "labels" / "eye3.png"
    vessels = np.asarray(Image.open(label)) > 0
    if kind == "checkerboard":
        Image.fromarray((np.indices(vessels.shape).sum(axis=0) % 2 * 255).astype(np.uint8)).save(
            label
        )
    else:
        soft = vessels * 150 + np.random.default_rng(0).integers(0, 80, vessels.shape)
        Image.fromarray(soft.astype(np.uint8)).convert("1").save(label)
    report = json.loads(_eval(root, "--json", expect=1).stdout)
    assert [p["name"] for p in report["photos"]] == ["eye1", "eye2"]
    [failed] = report["failed"]
    assert failed["name"] == "eye3" and failed["error"].startswith(f"{label}: ")
    assert failed["error"].endswith(
        "have none above, below or beside them, expected at most 50% (noise, a dithered or a "
        "checkerboard image is no vessel label)"
        if kind == "checkerboard"
        else "touch no other, expected at most 30% (noise, a dithered or a checkerboard image "
        "is no vessel label)"
    )


def test_eval_scores_a_label_of_centre_lines(tmp_path, make_photo_dataset):
    """Thin and diagonal vessels touch one another at their corners only: not noise."""
    root = make_photo_dataset(tmp_path / "d", "generic")
    label = root / "labels" / "eye3.png"
    lines = skeletonize(np.asarray(Image.open(label)) > 0)
    Image.fromarray(lines.astype(np.uint8) * 255).save(label)
    report = json.loads(_eval(root, "--json", expect=0).stdout)
    assert [p["name"] for p in report["photos"]] == ["eye1", "eye2", "eye3"]


def test_eval_refuses_a_report_folder_that_holds_the_dataset(tmp_path, make_photo_dataset):
    """Its pictures would join the photographs (the next run reads them) or overwrite a label
    named like one, and be scored against."""
    root = make_photo_dataset(tmp_path / "d", "generic")
    before = sorted(p.name for p in (root / "labels").iterdir())
    for folder in ("images", "labels", "masks", "labels/../labels"):
        result = _eval(root, "--report", root / folder, expect=2)
        assert "holds the dataset's photographs, labels or masks" in result.output
    assert sorted(p.name for p in (root / "labels").iterdir()) == before
    _eval(root, "--report", root / "report", expect=0)  # a folder of its own, even inside


@pytest.mark.parametrize("holdout", [None, "0.2"])
def test_eval_with_nothing_to_evaluate_warns_and_exits_1(tmp_path, make_photo_dataset, holdout):
    if holdout:  # one photograph: train --holdout held none out
        root = make_photo_dataset(tmp_path / "d", "generic", count=1)
        reason = "--holdout 0.2 of 1 photograph holds none out"
    else:
        root = tmp_path / "d"
        for folder in ("images", "labels"):
            (root / folder).mkdir(parents=True)
        reason = "no photographs in the generic layout"
    result = _eval(root, "--json", *(["--holdout", holdout] if holdout else []), expect=1)
    assert result.stdout == ""
    assert result.stderr == f"warning: {root}: nothing to evaluate: {reason}\n"


def _npz(path: Path, count: int) -> Path:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (count, 64, 64), dtype=np.uint8)
    x[count // 2 :] = 90  # flat patches: the model finds no vessel there
    y = np.zeros_like(x)
    y[: max(1, count // 2), 20:24] = 1  # the first half (one at least) with a vessel
    np.savez(path, x=x, y=y)
    return path


def test_eval_of_one_patch_with_a_holdout_has_nothing_to_evaluate(tmp_path):
    path = _npz(tmp_path / "one.npz", 1)
    result = _eval(path, "--images", "x", "--labels", "y", "--holdout", "0.2", expect=1)
    assert result.stdout == ""
    assert result.stderr == (
        f"warning: {path}: nothing to evaluate: --holdout 0.2 of 1 patch holds none out\n"
    )
    report = json.loads(_eval(path, "--images", "x", "--labels", "y", "--json", expect=0).stdout)
    assert report["n"] == 1 and report["dice_min"] == report["dice_mean"]


def test_eval_of_patches_says_how_many_count_as_1_without_a_vessel(tmp_path):
    path = _npz(tmp_path / "d.npz", 8)
    report = json.loads(_eval(path, "--images", "x", "--labels", "y", "--json", expect=0).stdout)
    with np.load(path) as npz:
        x, y = npz["x"], npz["y"]
    masks = Segmenter().patch_masks(x)
    empty = ~(y.any(axis=(1, 2)) | masks.any(axis=(1, 2)))
    assert empty.any() and report["both_empty"] == int(empty.sum())
    text = _eval(path, "--images", "x", "--labels", "y", expect=0).stdout
    assert f"({empty.sum()} without a vessel in label or mask count as 1; " in text


def test_a_label_or_mask_saved_as_jpeg_is_refused_not_scored(tmp_path, make_photo_dataset):
    """Compression noise around each vessel was read as vessel: F1 0.50 where the label gives
    0.79; at quality 98 a label keeps so few distinct values that it passed as a map and
    scored 0.62 for 0.79."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=3)
    label = root / "labels" / "eye1.png"
    Image.open(label).convert("L").save(root / "labels" / "eye1.jpg", quality=75)
    label.unlink()
    mask = root / "masks" / "eye2.bmp"
    Image.open(mask).convert("L").save(root / "masks" / "eye2.jpg", quality=75)
    mask.unlink()
    label = root / "labels" / "eye3.png"
    Image.open(label).convert("L").save(root / "labels" / "eye3.jpg", quality=98)
    label.unlink()
    report = json.loads(_eval(root, "--json", expect=1).stdout)
    assert report["n"] == 0
    errors = {f["name"]: f["error"] for f in report["failed"]}
    for name, path in (
        ("eye1", root / "labels" / "eye1.jpg"),
        ("eye2", root / "masks" / "eye2.jpg"),
        ("eye3", root / "labels" / "eye3.jpg"),
    ):
        assert errors[name] == (
            f"{path}: the {'mask' if name == 'eye2' else 'label'} saved as JPEG, whose "
            "compression changes the pixels around every edge: save it losslessly, as PNG"
        )


def test_a_drive_label_serves_one_photograph_and_a_drive_name_is_read_exactly(
    tmp_path, make_photo_dataset
):
    """DRIVE names a label by the photograph's number: 05_test, 05_training and a copy
    05_test_flipped were all scored against 05_manual1.gif (F1 0.16 and 0.11), exit 0."""
    root = make_photo_dataset(tmp_path / "d", "drive")
    images = root / "images"
    shutil.copy(images / "01_test.tif", images / "01_training.tif")
    shutil.copy(images / "02_test.tif", images / "02_test_flipped.tif")
    photos = {photo.image.name: photo.problem for photo in find_dataset(root).photos}
    label = root / "1st_manual" / "01_manual1.gif"
    assert photos["01_test.tif"] == (
        f"{images / '01_test.tif'}: its label {label} is also {images / '01_training.tif'}'s, "
        "expected a label of its own"
    )
    assert photos["01_training.tif"].startswith(f"{images / '01_training.tif'}: its label")
    assert photos["02_test_flipped.tif"] == (
        f"{images / '02_test_flipped.tif'}: not a DRIVE photograph's name (NN_test or NN_training)"
    )
    assert photos["02_test.tif"] is None and photos["03_test.tif"] is None


def test_masks_and_labels_are_found_in_any_format_and_a_missing_mask_is_said(
    tmp_path, make_photo_dataset
):
    """A DRIVE mask saved as PNG was passed over and the field detected instead, silently; a
    photograph without a mask among masked ones was scored on a detected field."""
    root = make_photo_dataset(tmp_path / "d", "drive")
    mask = root / "mask" / "01_test_mask.gif"
    Image.open(mask).save(mask.with_suffix(".png"))
    mask.unlink()
    (root / "mask" / "02_test_mask.gif").unlink()
    photos = {photo.image.name: photo for photo in find_dataset(root).photos}
    assert photos["01_test.tif"].mask == mask.with_suffix(".png")
    assert photos["02_test.tif"].problem == (
        f"{root / 'images' / '02_test.tif'}: no field-of-view mask for this photograph, while "
        "others have one (its field would be detected, theirs given)"
    )


def test_chase_photographs_of_any_format_are_found(tmp_path, make_photo_dataset):
    """Only .jpg photographs were found: a .png one and its label were left out, exit 0."""
    root = make_photo_dataset(tmp_path / "c", "chase")
    first = sorted(root.rglob("Image_*.jpg"))[0]
    Image.open(first).save(first.with_suffix(".png"))
    first.unlink()
    photos = find_dataset(root).photos
    assert len(photos) == 3 and not any(photo.problem for photo in photos)
    assert first.with_suffix(".png") in {photo.image for photo in photos}
    for label in root.rglob("*_1stHO.png"):  # labels of another format: still CHASE's layout
        Image.open(label).save(label.with_suffix(".gif"))
        label.unlink()
    assert find_dataset(root).layout == "chase"
    # what eval --report and segment write beside them is not taken for photographs
    (root / "report").mkdir()
    shutil.copy(first.with_suffix(".png"), root / "report" / f"{first.stem}_comparison.png")
    shutil.copy(first.with_suffix(".png"), root / "report" / f"{first.stem}_mask.png")
    photos = find_dataset(root).photos
    assert len(photos) == 3 and not any(photo.problem for photo in photos)


def test_a_summary_target_that_is_a_folder_stops_eval_before_any_work(tmp_path, make_photo_dataset):
    """Found once after every photograph was scored, naming the temporary file."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    (tmp_path / "r" / "summary.md").mkdir(parents=True)
    result = _eval(root, "--report", tmp_path / "r", expect=2)
    assert (
        result.stderr
        == f"Error: {tmp_path / 'r' / 'summary.md'}: is a folder, not a file to write\n"
    )
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["summary.md"]


def test_a_photograph_named_in_bytes_not_utf_8_gets_its_summary_row(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    for path in root.glob("*/eye1.*"):
        path.rename(os.fsdecode(bytes(path.with_name("eye")) + b"\xff" + path.suffix.encode()))
    result = _eval(root, "--report", tmp_path / "r", expect=0)
    assert "Traceback" not in result.output and "mean" in result.stdout
    rows = (tmp_path / "r" / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert [row.split(",")[0] for row in rows] == [
        "name",
        "eye2",
        "eye\\udcff",
        "(mean of 2)",
        "(mean over)",
    ]
    assert "| eye\\udcff |" in (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    # its JSON record as the CSV has it, not a lone surrogate (U+FFFD to jq and JavaScript)
    evaluation = json.loads(_eval(root, "--json", expect=0).stdout)
    assert [photo["name"] for photo in evaluation["photos"]] == ["eye2", "eye\\udcff"]
    # and so is an .npz file's
    patches = _npz(Path(os.fsdecode(bytes(tmp_path / "p") + b"\xff.npz")), 2)
    evaluation = json.loads(
        _eval(patches, "--images", "x", "--labels", "y", "--json", expect=0).stdout
    )
    assert evaluation["data"] == f"{tmp_path / 'p'}\\udcff.npz"


def test_the_summary_keeps_its_rows_whatever_the_photographs_are_named(
    tmp_path, make_photo_dataset
):
    # a "|" split a Markdown row, and a photograph named "mean" gave two "mean" rows
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    for old, new in (("eye1", "a|b"), ("eye2", "mean")):
        for path in root.glob(f"*/{old}.*"):
            path.rename(path.with_name(new + path.suffix))
    _eval(root, "--report", tmp_path / "r", expect=0)
    rows = (tmp_path / "r" / "summary.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == [
        "name",
        "a|b",
        "mean",
        "(mean of 2)",
        "(mean over)",
    ]
    table = [
        line for line in (tmp_path / "r" / "summary.md").read_text().splitlines() if "|" in line
    ]
    assert [line.split(" | ")[0] for line in table[2:]] == [
        "| a\\|b",
        "| mean",
        "| (mean of 2)",
        "| mean over",
    ]
    assert all(line.replace("\\|", "").count("|") == 7 for line in table)


def test_the_summary_csv_has_a_row_for_each_photograph_that_could_not_be_scored(tmp_path):
    """A folder of five photographs, one damaged, gave summary.csv four rows and the mean's:
    the damaged one, and why, only in summary.md; a study reading the table could not tell
    that a photograph was missing, nor which. A photograph whose arteries and veins could not
    be scored says why too."""
    graded = ArteryVeinScores(**dict.fromkeys(ARTERY_VEIN_METRICS, 0.5))
    results = [
        ScoredPhoto(0.8, 0.7, 0.9, 0.9, 0.9, name="a", photograph="a.png", artery_vein=graded),
        ScoredPhoto(
            0.6,
            0.5,
            0.9,
            0.9,
            0.9,
            name="b",
            photograph="b.png",
            artery_vein_error="b.png: grayscale",
        ),
        FailedPhoto("c", "c.png", "c.png: not an image file Pillow can read", "c.png"),
    ]
    made = Segmenter().provenance  # its columns last, in every row of a photograph
    write_summary(tmp_path, DatasetEvaluation.of("m.tflite", 0.5, results, made))
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    model = made.columns()[PROVENANCE_COLUMNS[-1]]
    assert [row[PROVENANCE_COLUMNS[-1]] for row in rows] == [str(model)] * 4 + [""]
    assert [(row["name"], row["error"]) for row in rows] == [
        ("a", ""),
        ("b", "b.png: grayscale"),
        ("c", "c.png: not an image file Pillow can read"),
        ("(mean of 2)", ""),
        ("(mean over)", ""),
    ]
    assert rows[1]["f1"] == "0.6000" and rows[1]["av_accuracy"] == ""
    assert all(rows[2][column] == "" for column in [*METRICS, "av_accuracy"])
    assert rows[3]["f1"] == "0.7000" and rows[4]["f1"] == "2"
    write_summary(tmp_path, DatasetEvaluation.of("m.tflite", 0.5, results[:1], made))
    assert (tmp_path / "summary.md").read_text().startswith("# m.tflite on 1 photograph\n")


def test_a_name_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tmp_path):
    """A photograph named =HYPERLINK(...) was its row's first cell as it is: a spreadsheet
    opening summary.csv ran it (OWASP's CSV injection)."""
    names = ['=HYPERLINK("http://x")', "@SUM(A1)", "-2+3", "+cmd", "\tx", "eye"]
    photos = [ScoredPhoto(0.8, 0.7, 0.9, 0.9, 0.9, name=n, photograph=f"{n}.png") for n in names]
    failed = FailedPhoto("=x", "=x.png", "=x.png: cannot be read", "=x.png")  # its error's cell too
    write_summary(tmp_path, DatasetEvaluation.of("m.tflite", 0.5, [*photos, failed]))
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["name"] for row in rows[:-3]] == [*(f"'{n}" for n in names[:-1]), "eye"]
    assert [rows[-3][c] for c in ("name", "photograph", "error")] == [
        "'=x",
        "'=x.png",
        "'=x.png: cannot be read",
    ]
    assert rows[0]["f1"] == "0.8000"


def test_a_label_inverted_inside_a_small_field_of_view_is_refused():
    """Vessels cover 90 % of a field of view that is 7 % of the frame: the share is of the
    field, not the frame (6 %)."""
    from edge_runtime.data.vessel_share import check_share

    ys, xs = np.mgrid[0:200, 0:200]
    field = np.hypot(ys - 100, xs - 100) <= 30
    lines = np.zeros_like(field)
    lines[::10] = True
    with pytest.raises(InputError, match=r"vessels cover 9\d% of the field of view"):
        check_share("label.png", field & ~lines, field)
    check_share("label.png", field & lines, field)  # 10 %: a label


def test_the_photo_holdout_leaves_a_photograph_to_train_on_and_spreads_over_the_names():
    from edge_runtime.data.photos import photo_holdout

    for count in range(2, 12):
        assert len(photo_holdout(count, 0.99)) == count - 1
    assert photo_holdout(10, 0.2).tolist() == [2, 7]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_label_whose_photograph_is_missing_is_named_in_every_layout(
    tmp_path, make_photo_dataset, layout
):
    """Only the generic layout named them: a DRIVE or STARE folder copied without one of its
    photographs was scored on the rest in silence."""
    root = make_photo_dataset(tmp_path / layout, layout, count=3)
    listed = list_dataset(root)
    assert listed.unmatched == ()
    gone = listed.photos[-1]
    gone.image.unlink()
    left = {gone.label} | ({gone.mask} if gone.mask else set())
    if layout == "drive":  # its artery/vein label too
        (root / "AV").mkdir()
        left.add(Path(shutil.copy(gone.label, root / "AV" / f"{gone.name}{gone.label.suffix}")))
    assert set(list_dataset(root).unmatched) == left


def test_a_file_matching_no_photograph_is_named_once_whoever_lists_its_folder(
    tmp_path, make_photo_dataset
):
    """convert reads one folder twice (its calibration and its gate's data), and named such a
    file twice; the command line's warnings are Python's, shown once per place and text."""
    root = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    orphan = root / "labels" / "eye9.png"
    orphan.write_bytes((root / "labels" / "eye1.png").read_bytes())
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("default")
        find_dataset(root).warn_of_unmatched()  # the calibration's
        find_dataset(root).warn_of_unmatched()  # the gate's
    assert [str(w.message) for w in said] == [
        f"{orphan}: matches no photograph's name, so nothing reads it"
    ]


def test_the_summary_puts_each_photograph_s_metric_under_its_column_and_counts_each_mean(
    tmp_path,
):
    """summary.csv: each value under its metric's column (every metric different here);
    summary.md: the "mean over" row gives, under each metric, over how many photographs its
    mean is taken (here not all the same)."""
    photos = [
        ScoredPhoto(0.81, 0.72, 0.93, 0.94, 0.95, name="a", photograph="a.png"),
        ScoredPhoto(0.61, 0.52, None, 0.84, None, name="b", photograph="b.png"),
    ]
    evaluation = DatasetEvaluation.of("m.tflite", 0.5, photos)
    write_summary(tmp_path, evaluation)
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = {row["name"]: row for row in csv.DictReader(f)}
    for photo in photos:
        for metric in METRICS:
            value = getattr(photo, metric)
            assert rows[photo.name][metric] == ("" if value is None else f"{value:.4f}")
    mean = rows["(mean of 2)"]
    assert (mean["f1"], mean["specificity"], mean["auc"]) == ("0.7100", "0.9300", "0.9500")
    table = [line for line in (tmp_path / "summary.md").read_text().splitlines() if "|" in line]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    over = [cell.strip() for cell in table[-1].strip("|").split("|")]
    assert over[0] == "mean over"
    counted = {"f1": "2", "sensitivity": "2", "specificity": "1", "accuracy": "2", "auc": "1"}
    assert dict(zip(header[1:], over[1:], strict=True)) == counted
    assert {m: rows["(mean over)"][m] for m in METRICS} == counted  # in summary.csv too


def test_the_comparison_picture_colours_each_kind_of_pixel_inside_the_field_only():
    """Found, invented and missed vessel pixels in their own colours inside the field of view;
    background inside at half the photograph's level; outside, nothing coloured and a quarter
    of the level."""
    photo = np.full((2, 4, 3), 200, np.uint8)
    mask = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], bool)
    label = np.array([[1, 0, 1, 0], [1, 0, 1, 0]], bool)
    fov = np.array([[True] * 4, [False] * 4])
    picture = comparison_picture(photo, mask, label, fov)
    found, invented, missed, background = (tuple(p) for p in picture[0])
    assert (found, invented, missed) == (TRUE_POSITIVE, FALSE_POSITIVE, FALSE_NEGATIVE)
    assert background == (100, 100, 100)
    assert [tuple(p) for p in picture[1]] == [(50, 50, 50)] * 4


def test_a_report_that_cannot_be_written_keeps_the_means_and_no_earlier_table(
    tmp_path, make_photo_dataset, monkeypatch
):
    """The report's table and summary are written together after the means are printed: when
    the second cannot be written, the means are still shown, the exit status says it failed,
    and no table is left, neither this run's without its summary nor the earlier run's (removed
    as the run started) beside this run's pictures."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    report = tmp_path / "report"
    _eval(root, "--report", report, expect=0)
    real_write_text = Path.write_text

    def failing(path, text, *args, **kwargs):
        if path.name.startswith(".") and "| photograph |" in text:  # the summary's temporary
            raise OSError(28, "No space left on device")
        return real_write_text(path, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    result = _eval(root, "--report", report, "--threshold", "0.3", expect=2)
    assert "mean of 2 photographs" in result.output
    assert "cannot write summary.csv and summary.md (No space left on device)" in result.output
    assert sorted(p.name for p in report.iterdir()) == [
        "eye1_comparison.png",
        "eye2_comparison.png",
    ]


def test_a_photograph_stored_turned_apart_from_its_label_is_warned_of(tmp_path, make_photo_dataset):
    """A photograph stored upside down with an EXIF orientation and a label without one: each
    is read upright by its own, so a label drawn on the stored pixels is scored turned (DRIVE's
    05 so: F1 0.13), without a word. It is warned of, naming the files' orientations, also by
    a worker process; a label stored the same way is not."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    (image,) = (root / "images").glob("eye1.*")
    stored = Image.open(image).rotate(180)
    exif = Image.Exif()
    exif[0x0112] = 3  # turned 180 degrees
    image.unlink()
    stored.save(root / "images" / "eye1.png", exif=exif)
    expected = (
        f"warning: {root / 'images' / 'eye1.png'}: its files are stored turned apart (EXIF "
        "orientation: photograph 3, label 1, mask 1): each is read turned upright by its own"
    )
    result = _eval(root, "--jobs", "1", expect=0)
    assert (
        [line for line in result.output.splitlines() if "turned apart" in line]
        == [line for line in result.output.splitlines() if line.startswith(expected)]
        != []
    )
    by_workers = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", "eval", str(root), "--jobs", "2"],
        capture_output=True,
        text=True,
    )
    assert by_workers.returncode == 0 and by_workers.stderr.startswith(expected)
    for folder in ("labels", "masks"):  # as PNG: a BMP holds no orientation
        (label,) = (root / folder).glob("eye1.*")
        turned = Image.open(label).rotate(180)
        label.unlink()
        turned.save(label.with_suffix(".png"), exif=exif)
    assert "turned apart" not in _eval(root, "--jobs", "1", expect=0).output


def _with_exif_after_pixels(path: Path) -> None:
    """Rewrite a PNG so that its eXIf chunk follows its pixels, as some tools store it."""
    data = path.read_bytes()
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunks.append(data[at : at + 12 + length])
        at += 12 + length
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] != b"eXIf"]
    assert len(exif) == 1 and rest[-1][4:8] == b"IEND"
    path.write_bytes(data[:8] + b"".join(rest[:-1] + exif + rest[-1:]))


XMP_TURNED = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="3"/></rdf:RDF></x:xmpmeta>'
)
"""XMP metadata saying a picture is stored turned 180 degrees."""


def _png_turned_after_pixels(turned: Image.Image, path: Path) -> None:
    """Save a PNG whose EXIF orientation (turned 180 degrees) follows its pixels."""
    exif = Image.Exif()
    exif[0x0112] = 3
    turned.save(path, exif=exif)
    _with_exif_after_pixels(path)
    with Image.open(path) as opened:
        assert "exif" not in opened.info  # not in the header Pillow reads first


def _png_turned_by_xmp(turned: Image.Image, path: Path) -> None:
    """Save a PNG whose orientation (turned 180 degrees) is in XMP, as some editors write it."""
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_TURNED)
    turned.save(path, pnginfo=info)


@pytest.mark.parametrize("save", [_png_turned_after_pixels, _png_turned_by_xmp])
def test_a_png_whose_orientation_is_not_in_its_exif_header_is_warned_of(
    tmp_path, make_photo_dataset, monkeypatch, save
):
    """A PNG photograph whose orientation comes after its pixels (Pillow reads it only once the
    pixels are decoded) or in XMP (which the decoder honours too), and a label without one:
    warned of as one whose EXIF comes first, without decoding the photograph for it."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    (image,) = (root / "images").glob("eye1.*")
    turned, stored = Image.open(image).rotate(180), root / "images" / "eye1.png"
    image.unlink()
    save(turned, stored)
    size = Image.open(stored).size
    with monkeypatch.context() as decoding:  # the orientation is read without the pixels
        decoding.setattr(Image.Image, "load", lambda self: pytest.fail("pixels decoded"))
        decoding.setattr(PngImageFile, "load", lambda self: pytest.fail("pixels decoded"))
        assert stored_orientation(stored) == (3, size)
    result = _eval(root, "--jobs", "1", expect=0)
    assert "its files are stored turned apart (EXIF orientation: photograph 3, label 1" in (
        result.output
    )


@pytest.mark.parametrize("orientation", [6, 0, 9])
def test_what_sizes_tell_apart_or_means_nothing_is_not_warned_of(
    tmp_path, make_photo_dataset, orientation
):
    """A phone's photograph stored a quarter turned (6) with a label drawn upright: a label
    drawn on its stored pixels would have the other size, and be refused, so there is nothing
    to warn of; nor of an orientation of no meaning (0, 9), read upright as the label is."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    (image,) = (root / "images").glob("eye1.*")
    upright = Image.open(image)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.unlink()
    stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
    stored.save(root / "images" / "eye1.png", exif=exif)
    result = _eval(root, "--jobs", "1", expect=0)
    assert "turned apart" not in result.output
    assert upright.size[0] != upright.size[1]  # as a fundus photograph's


def _png_exif_chunk(path: Path) -> tuple[int, int]:
    """Where a PNG's eXIf chunk starts (its length field) and how long its data is."""
    data = path.read_bytes()
    at = data.index(b"eXIf") - 4
    return at, int.from_bytes(data[at : at + 4], "big")


@pytest.mark.parametrize(("spare", "orientation"), [(0, 3), (-1, 1)], ids=["at", "over"])
def test_an_exif_after_the_pixels_is_read_up_to_its_size_limit_and_no_further(
    tmp_path, monkeypatch, spare, orientation
):
    """An eXIf chunk after a PNG's pixels is read when it is at most MAX_PNG_EXIF_BYTES long
    (the limit itself included); a longer one is stepped over, its orientation read upright,
    rather than read whole into memory."""
    path = tmp_path / "eye.png"
    _png_turned_after_pixels(Image.new("RGB", (64, 48)), path)
    _, length = _png_exif_chunk(path)
    monkeypatch.setattr("edge_runtime.pipeline.decode.MAX_PNG_EXIF_BYTES", length + spare)
    assert stored_orientation(path) == (orientation, (64, 48))


def test_an_exif_after_a_png_s_end_is_not_its_orientation(tmp_path):
    """Chunks after IEND are no part of the picture: the decoder never reads them, so it reads
    the photograph as stored, and an orientation there is none to warn of."""
    path = tmp_path / "eye.png"
    _png_turned_after_pixels(Image.new("RGB", (64, 48)), path)
    data = path.read_bytes()
    at, _ = _png_exif_chunk(path)
    end = data[-12:]
    assert end[4:8] == b"IEND" and data[at:-12].endswith(data[-16:-12])  # eXIf just before
    path.write_bytes(data[:at] + end + data[at:-12])  # IEND, then the eXIf
    with Image.open(path) as decoded:
        decoded.load()
        assert decoded.getexif().get(0x0112) is None  # read as stored
    assert stored_orientation(path) == (1, (64, 48))


def test_a_png_whose_header_exif_has_no_orientation_reads_the_one_after_its_pixels(tmp_path):
    """A header EXIF without an orientation (ImageMagick's "Raw profile type exif" text chunk,
    a camera's make only) and an eXIf chunk after the pixels that has one: the decoder turns the
    photograph by the latter, so the warning must read it too."""
    header = Image.Exif()
    header[0x010F] = "Camera"  # its make
    raw = header.tobytes()
    info = PngInfo()
    info.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n")
    turned = Image.Exif()
    turned[0x0112] = 3
    path = tmp_path / "eye.png"
    Image.new("RGB", (64, 48)).save(path, pnginfo=info, exif=turned)
    _with_exif_after_pixels(path)
    with Image.open(path) as decoded:
        assert 0x010F in Image.Image.getexif(decoded)  # the header's EXIF, without orientation
    with Image.open(path) as decoded:
        decoded.load()
        assert decoded.getexif().get(0x0112) == 3  # what the decoder turns it by
    assert stored_orientation(path) == (3, (64, 48))


def test_a_photograph_whose_name_only_begins_as_a_summary_row_is_read(tmp_path, make_photo_dataset):
    """Kills M18 (match, not fullmatch): '(mean of 2) left' is no row of the summary."""
    root = make_photo_dataset(tmp_path, "generic", count=2)
    name = "(mean of 2) left"
    for folder in ("images", "labels", "masks"):
        (file,) = (root / folder).glob("eye1.*")
        file.rename(file.with_name(name + file.suffix))
    photos = {photo.name: photo for photo in find_dataset(root).photos}
    assert photos[name].problem is None
