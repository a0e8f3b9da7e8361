"""Folders of labelled photographs in every layout, the whole-photograph metrics, and eval on
them (checked against an independent computation)."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.contract.metrics import photo_scores, roc_auc
from edge_runtime.data.photos import LAYOUTS, find_dataset, load_labelled, photo_holdout
from edge_runtime.errors import InputError
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
    assert len(find_dataset(tmp_path).photos) == 6


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
    with pytest.raises(InputError, match=r"eye2.png: no label for this photograph in .*labels"):
        find_dataset(root)
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
    for folder, pattern in (("images", "1[78]_test.tif"), ("1st_manual", "1[78]_manual1.gif"),
                            ("mask", "1[78]_test_mask.gif")):  # fmt: skip
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
    assert written == ["17_test_comparison.png", "18_test_comparison.png", "summary.csv",
                       "summary.md"]  # fmt: skip
    assert (tmp_path / "r" / "summary.csv").read_text().splitlines()[0] == (
        "photograph,f1,sensitivity,specificity,accuracy,auc"
    )


def test_eval_of_an_npz_still_needs_its_arrays(dev_npz):
    result = CliRunner().invoke(cli, ["eval", str(dev_npz)])
    assert result.exit_code == 2 and "needs --images and --labels" in result.output


def test_eval_holdout_scores_the_photographs_training_held_out(tmp_path, make_photo_dataset):
    root = make_photo_dataset(tmp_path / "d", "generic")
    result = CliRunner().invoke(cli, ["eval", str(root), "--holdout", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    held = [find_dataset(root).photos[i].name for i in photo_holdout(3, 0.3)]
    assert [p["name"] for p in json.loads(result.stdout)["photos"]] == held == ["eye2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{folder}", "--images", "x"], "a folder of photographs takes no --images"),
        (
            ["{npz}", "--images", "x", "--labels", "y", "--layout", "drive", "--jobs", "2"],
            "an .npz file takes no --layout or --jobs",
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
