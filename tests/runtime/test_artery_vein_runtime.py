"""The artery/vein output on the device: a second model chained after the vessel model, its
four-channel input, its map at the photograph's size, the models refusing each other's place,
and its file (``segment --av``)."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime import ArteryVein, ArteryVeinModel, Segmenter
from edge_runtime.contract.artery_vein_input import (
    ARTERY_VEIN_PREPROCESSING,
    artery_vein_input,
    standardised_colour,
)
from edge_runtime.contract.artery_vein_metrics import artery_vein_scores
from edge_runtime.contract.model_card import ModelCard, Preprocessing
from edge_runtime.data.artery_vein import CLASS_COLOURS, colour_picture, decode_artery_vein
from edge_runtime.errors import ModelError
from edge_runtime.evaluation.bench import segment
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.grayscale import has_colour

A, V, U = ArteryVein.ARTERY, ArteryVein.VEIN, ArteryVein.UNCERTAIN


class ByChannel:
    """A stand-in artery/vein predictor: a pixel is an artery where ``rule`` says so of its
    input channels; it counts the tiles it was given."""

    side = 32
    card = ModelCard(patch_size=32, preprocessing=Preprocessing(ARTERY_VEIN_PREPROCESSING))

    def __init__(self, rule):
        self.rule, self.tiles = rule, 0

    def predict(self, patches: np.ndarray) -> np.ndarray:
        assert patches.shape[1:] == (32, 32, 4)
        self.tiles += len(patches)
        return self.rule(patches).astype(np.float32)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return synthetic_fundus(300, 320, seed=3)


def test_the_input_is_colour_standardised_in_the_field_and_the_vessel_probability():
    rng = np.random.default_rng(0)
    colour = rng.uniform(0, 255, (40, 50, 3)) * np.array([1.0, 0.5, 0.1])
    inside = np.zeros((40, 50), bool)
    inside[5:35, 10:45] = True
    probability = rng.uniform(0, 1, (40, 50))
    x = artery_vein_input(colour, inside, probability)
    assert x.shape == (40, 50, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x[inside, :3].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(x[inside, :3].std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(x[inside, 3], probability[inside], rtol=1e-6)
    assert not x[~inside].any()
    flat = artery_vein_input(np.full((40, 50, 3), 7.0), inside, probability)
    assert not flat[..., :3].any()  # a flat channel has no spread: zeros, not a division by 0
    assert np.array_equal(standardised_colour(colour, inside), x[..., :3])  # one definition
    assert not standardised_colour(colour, np.zeros_like(inside)).any()  # no field: zeros


def test_each_found_vessel_is_an_artery_or_a_vein_and_nothing_else_is(photo):
    red_above_mean = ByChannel(lambda x: x[..., 0] > 0)
    result = Segmenter(artery_vein=ArteryVeinModel(red_above_mean)).segment(photo)
    classes = result.artery_vein
    assert classes.shape == photo.shape[:2] and classes.dtype == np.int8
    assert np.array_equal(classes != ArteryVein.BACKGROUND, result.mask.astype(bool))
    assert set(np.unique(classes)) == {ArteryVein.BACKGROUND, ArteryVein.ARTERY, ArteryVein.VEIN}
    assert red_above_mean.tiles > 0
    # the class follows the model: all arteries, then all veins
    for rule, expected in ((np.ones_like, ArteryVein.ARTERY), (np.zeros_like, ArteryVein.VEIN)):
        model = ArteryVeinModel(ByChannel(lambda x, rule=rule: rule(x[..., 0])))
        classes = Segmenter(artery_vein=model).segment(photo).artery_vein
        assert set(np.unique(classes[result.mask.astype(bool)])) == {expected}


def test_without_an_artery_vein_model_there_is_no_map_and_it_costs_nothing(photo):
    result = Segmenter().segment(photo)
    assert result.artery_vein is None and result.work_artery_probability is None
    assert result.measurements.arteries is None


def test_the_measurements_take_each_class_from_the_map(photo):
    model = ArteryVeinModel(ByChannel(lambda x: x[..., 1] > 0))
    result = Segmenter(artery_vein=model).segment(photo)
    measured = result.measurements
    arteries = np.count_nonzero(result.artery_vein == ArteryVein.ARTERY)
    veins = np.count_nonzero(result.artery_vein == ArteryVein.VEIN)
    assert measured.arteries.vessel_pixels == arteries > 0
    assert measured.veins.vessel_pixels == veins > 0
    assert measured.vessels.vessel_pixels == arteries + veins


def test_measuring_keeps_no_photograph_sized_map_it_made(photo):
    """Kept, the field and the class map were held through the writing of the outputs: 464 MB
    on the largest photograph, over the 384 MB the tests allow."""
    model = ArteryVeinModel(ByChannel(lambda x: x[..., 1] > 0))
    measured = Segmenter(artery_vein=model).segment(photo)
    made = measured.measurements
    assert "fov" not in vars(measured) and "artery_vein" not in vars(measured)
    kept = Segmenter(artery_vein=model).segment(photo)
    kept_maps = kept.fov, kept.artery_vein
    assert kept.measurements == made  # the maps it keeps are the maps it would make
    assert vars(kept)["fov"] is kept_maps[0] and vars(kept)["artery_vein"] is kept_maps[1]


def test_a_vessel_model_is_refused_as_the_artery_vein_model_and_the_other_way_round(tmp_path):
    with pytest.raises(ModelError, match="takes 'contrast_stretch_255' input, expected "):
        ArteryVeinModel(DEFAULT_MODEL)
    with pytest.raises(ModelError) as refused:
        PatchModel(RuntimeOptions(DEFAULT_MODEL), preprocessing=ARTERY_VEIN_PREPROCESSING)
    assert "the input of artery/vein models" in str(refused.value)


def test_the_map_file_reads_back_as_the_classes_it_was_written_from():
    classes = np.array([[0, 1, 2, 3], [2, 1, 0, 0]], dtype=np.int8)
    picture = colour_picture(classes)
    assert picture.mode == "RGB" and picture.size == (4, 2)
    pixels = np.asarray(picture)
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 4, 3)
    assert pixels[0, 1].tolist() == [255, 0, 0] and pixels[0, 2].tolist() == [0, 0, 255]
    assert np.array_equal(decode_artery_vein(pixels, "av.png"), classes)
    assert len(CLASS_COLOURS) == len(ArteryVein)
    with pytest.raises(ValueError, match=r"got artery/vein codes 0\.\.4, expected 0\.\.3"):
        colour_picture(np.array([[0, 4]], dtype=np.int8))  # no colour: never written black
    with pytest.raises(ValueError, match=r"codes 0\.\.260"):
        colour_picture(np.array([[0, 260]]))  # not wrapped round to a class
    assert np.array_equal(np.asarray(colour_picture(classes.astype(np.int64))), pixels)


def test_segment_refuses_a_vessel_model_for_av_on_one_line(tmp_path, run_cli):
    Image.fromarray(synthetic_fundus(200, 210)).save(tmp_path / "eye.png")
    failed = run_cli(
        "segment", tmp_path / "eye.png", "--av-model", DEFAULT_MODEL, "-o", tmp_path, expect=2
    )
    assert failed.stderr.count("\n") == 1 and "the input of artery/vein models" in failed.stderr
    assert not list(tmp_path.glob("*_mask.png"))  # refused before any work


def test_the_bundled_artery_vein_model_runs_by_default(photo):
    model = ArteryVeinModel()
    # the whole field at once, at half the vessel model's scale
    assert (model.tile, model.fov_diameter) == (272, 270) and model.runtime is not None
    result = Segmenter(artery_vein=model).segment(photo)
    assert np.array_equal(result.artery_vein != ArteryVein.BACKGROUND, result.mask.astype(bool))
    artery = result.work_artery_probability
    assert 0 <= artery.min() <= artery.max() <= 1
    assert all(
        abs(a - w / 2) <= 1 for a, w in zip(artery.shape, result.prepared.work.shape, strict=False)
    )


def test_segment_av_writes_the_same_maps_on_two_processes_as_on_one(tmp_path, run_cli):
    photos = []
    for seed in (1, 2):
        photos.append(tmp_path / f"eye{seed}.png")
        Image.fromarray(synthetic_fundus(260, 280, seed=seed)).save(photos[-1])
    maps = {}
    for jobs in ("1", "2"):
        run_cli("segment", *photos, "--av", "--jobs", jobs, "-o", tmp_path / jobs)
        maps[jobs] = [np.asarray(Image.open(tmp_path / jobs / f"{p.stem}_av.png")) for p in photos]
    for one, two, photo in zip(maps["1"], maps["2"], photos, strict=True):
        assert one.shape == (*Image.open(photo).size[::-1], 3)
        assert np.array_equal(one, two)
        assert set(map(tuple, one.reshape(-1, 3))) <= {tuple(c) for c in CLASS_COLOURS[:3]}


def test_a_photograph_without_colour_gets_no_artery_vein_map(photo):
    """The model tells arteries from veins by colour and never saw a grayscale photograph:
    no map rather than a guess, whether the photograph has one channel, three equal ones, or
    one colour's shades (sepia: a map once, the bundled model's for DRIVE's 05_test 30 % of its
    vessel pixels arteries, 50 % in colour)."""
    segmenter = Segmenter(artery_vein=ArteryVeinModel(ByChannel(lambda x: x[..., 0] > 0)))
    grey = np.asarray(Image.fromarray(photo).convert("L"))
    sepia = np.clip(grey[..., None] * np.array([1.35, 1.2, 0.94]), 0, 255).astype(np.uint8)
    for pixels in (grey, np.dstack([grey] * 3), sepia):
        result = segmenter.segment(pixels)
        assert result.artery_vein is None and result.mask.any()  # the vessels as ever
        assert result.measurements.arteries is None
    assert segmenter.segment(photo).artery_vein is not None


def test_a_photographs_colour_is_read_once_for_its_verdict_and_its_map(photo, monkeypatch):
    """Reading it costs about 1.5 ms on a DRIVE photograph: the verdict and the artery/vein
    map each read it once, of the same pixels."""
    from edge_runtime.pipeline import grayscale

    calls, off_tint = [], grayscale.off_tint
    monkeypatch.setattr(grayscale, "off_tint", lambda colours: calls.append(0) or off_tint(colours))
    result = Segmenter(artery_vein=ArteryVeinModel(ByChannel(lambda x: x[..., 0] > 0))).segment(
        photo
    )
    assert result.verdict.fundus and result.artery_vein is not None
    assert len(calls) == 1


def test_segment_av_warns_of_a_grayscale_photograph_and_maps_the_others(tmp_path, run_cli):
    colour, grey = tmp_path / "colour.png", tmp_path / "grey.png"
    Image.fromarray(synthetic_fundus(260, 280, seed=1)).save(colour)
    Image.open(colour).convert("L").save(grey)
    done = run_cli("segment", colour, grey, "--av", "--jobs", "1", "-o", tmp_path / "out")
    assert done.stderr == (
        f"warning: {grey}: no colour found (a grayscale or tinted photograph, or one too dark to "
        "tell), so no artery/vein map: they differ in colour\n"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "colour_av.png",
        "colour_mask.png",
        "grey_mask.png",
    ]
    assert not run_cli("segment", grey, "-o", tmp_path / "out").stderr  # no --av, no warning
    # a JSON reader is told too (it saw only that outputs lacked artery_vein)
    args = ("segment", colour, grey, "--av", "--json", "--jobs", "1", "-o", tmp_path / "again")
    records = [json.loads(line) for line in run_cli(*args).stdout.splitlines()]
    assert [r["warnings"] for r in records] == [[], [done.stderr.removeprefix("warning: ")[:-1]]]
    refused = run_cli("bench", "--image", grey, "--av", "--runs", "1", expect=2)
    assert (
        "no colour found (a grayscale or tinted photograph, or one too dark to tell), so the "
        "artery/vein model would not run" in refused.output
    )  # once timed without it, as if both outputs


def test_a_colour_photograph_too_dark_to_tell_its_colour_is_not_called_grayscale(tmp_path, run_cli):
    """At 4 % of its brightness a colour photograph's colour cannot be told: the warning said it
    was grayscale, a wrong reason for an operator to act on."""
    dark = tmp_path / "dark.png"
    pixels = (synthetic_fundus(260, 280, seed=1) * 0.04).astype(np.uint8)
    Image.fromarray(pixels).save(dark)
    assert pixels.ndim == 3 and not has_colour(pixels)
    done = run_cli("segment", dark, "--av", "-o", tmp_path / "out")
    assert (
        "no colour found (a grayscale or tinted photograph, or one too dark to tell)" in done.stderr
    )


def test_watch_av_writes_the_map_beside_the_mask(tmp_path, run_cli):
    (tmp_path / "in").mkdir()
    Image.fromarray(synthetic_fundus(260, 280)).save(tmp_path / "in" / "eye.png")
    run_cli("watch", tmp_path / "in", "-o", tmp_path / "out", "--av", "--once", "--settle", "0")
    written = np.asarray(Image.open(tmp_path / "out" / "eye_av.png"))
    mask = np.asarray(Image.open(tmp_path / "out" / "eye_mask.png")) > 0
    assert np.array_equal(decode_artery_vein(written, "eye_av.png") != ArteryVein.BACKGROUND, mask)


def test_bench_av_times_both_outputs_and_names_the_model(run_cli):
    size = ("--size", "200x210", "--runs", "1", "--json")
    plain = json.loads(run_cli("bench", *size).stdout)
    both = json.loads(run_cli("bench", *size, "--av").stdout)
    assert plain["artery_vein_model"] is None
    assert Path(both["artery_vein_model"]).name == "artery_vein_int8.tflite"
    assert both["tiles"] == plain["tiles"] and both["photo_ms"] > 0
    refused = run_cli("bench", "--size", "200x210", "--av-model", DEFAULT_MODEL, expect=2)
    assert refused.stderr.count("\n") == 1 and "the input of artery/vein models" in refused.stderr


def test_the_benchmark_classes_each_photograph_it_times(photo):
    result = segment(Segmenter(artery_vein=ArteryVeinModel()), photo)
    made = vars(result).get("artery_vein")  # made inside the timed call, not after it
    assert made is not None and made.shape == result.mask.shape


def test_each_command_says_what_it_does_with_the_arteries_and_veins(run_cli):
    said = {
        command: " ".join(run_cli(command, "--help").stdout.split())
        for command in ("segment", "watch", "eval", "bench")
    }
    assert all("Also tell arteries from veins" in text for text in said.values())
    assert "writes <stem>_av.png" in said["segment"] and "writes <stem>_av.png" in said["watch"]
    assert "_av.png" not in said["eval"] and "scores the photographs" in said["eval"]
    assert "times both outputs" in said["bench"] and "_av.png" not in said["bench"]


@pytest.mark.slow
def test_artery_vein_cost(run_benchmark):
    out = run_benchmark("artery_vein_cost.py", "--repeats", "1", "--size", "300x320")
    assert "1 artery/vein tile of 272 px" in out and "ratio" in out  # the whole field
    assert "ms one to an invoke" in out and "in a batch of 16" in out


def _with_artery_vein_labels(root):
    """Artery/vein labels beside a generic folder's vessel labels: left half arteries."""
    (root / "labels-av").mkdir()
    for label in sorted((root / "labels").glob("*.png")):
        vessels = np.asarray(Image.open(label)) > 0
        colours = np.zeros((*vessels.shape, 3), np.uint8)
        left = np.arange(vessels.shape[1]) < vessels.shape[1] // 2
        colours[vessels & left] = CLASS_COLOURS[ArteryVein.ARTERY]
        colours[vessels & ~left] = CLASS_COLOURS[ArteryVein.VEIN]
        Image.fromarray(colours).save(root / "labels-av" / label.name)
    return root


def test_eval_av_scores_the_photographs_with_artery_vein_labels(
    tmp_path, make_photo_dataset, run_cli
):
    import json

    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    (root / "labels-av" / "eye2.png").unlink()  # one photograph without
    printed = run_cli("eval", root, "--av", "--json", "--jobs", "1")
    evaluation = json.loads(printed.stdout)
    graded = [p["artery_vein"] for p in evaluation["photos"]]
    assert graded[1] is None and set(graded[0]) >= {"accuracy", "centreline_accuracy", "found"}
    assert evaluation["artery_vein_n"] == 1
    assert evaluation["artery_vein"]["accuracy"] == graded[0]["accuracy"]
    done = run_cli("eval", root, "--av")
    assert (
        "mean of 1 with artery/vein labels: arteries/veins on the vessels found: accuracy"
        in done.stdout
    )
    # said, not left to the means' counts: a study reading the text alone knew nothing of it
    assert done.stderr == (
        f"warning: {root}: 1 of 2 photographs have no artery/vein label (eye2): their arteries "
        "and veins are not scored\n"
    )
    plain = json.loads(run_cli("eval", root, "--json").stdout)  # without --av: vessels only
    assert plain["artery_vein"] is None and plain["artery_vein_n"] == 0


def test_eval_av_says_no_artery_vein_label_only_of_photographs_without_one(
    tmp_path, make_photo_dataset, run_cli
):
    """A photograph with an artery/vein label but no vessel label fails with its own error:
    it was also said to have no artery/vein label, and the file was there."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=3))
    (root / "labels" / "eye1.png").unlink()
    (root / "labels-av" / "eye2.png").unlink()
    failed = run_cli("eval", root, "--av", expect=1)
    assert f"{root / 'images' / 'eye1.png'}: no label" in failed.stderr
    assert f"warning: {root}: 1 of 3 photographs have no artery/vein label (eye2):" in (
        failed.stderr
    )


def test_eval_av_fails_when_nothing_has_artery_vein_labels(tmp_path, make_photo_dataset, run_cli):
    root = make_photo_dataset(tmp_path / "eyes", "generic", count=1)
    (root / "labels-av").mkdir()  # empty: a gate run with --av must not pass on nothing
    done = run_cli("eval", root, "--av", expect=1)
    assert "nothing to evaluate: no artery/vein labels (labels-av/, AV/) to score --av on" in (
        done.stderr
    )
    assert "mean of" not in done.stdout


def test_eval_refuses_an_artery_vein_label_with_a_white_background(
    tmp_path, make_photo_dataset, run_cli
):
    import json

    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    label = root / "labels-av" / "eye2.png"
    colours = np.asarray(Image.open(label)).copy()
    colours[(colours == 0).all(axis=2)] = 255  # white: RITE's "uncertain vessel"
    Image.fromarray(colours).save(label)
    done = run_cli("eval", root, "--av", "--json", "--jobs", "1", expect=1)
    evaluation = json.loads(done.stdout)
    assert not evaluation["failed"] and evaluation["n"] == 2  # the vessels are still scored
    error = evaluation["photos"][1]["artery_vein_error"]
    assert (
        error.startswith(f"{label}: ") and "vessels cover" in error and "white background" in error
    )
    assert evaluation["photos"][1]["artery_vein"] is None and evaluation["artery_vein_n"] == 1
    assert f"error: {error}" in done.stderr
    assert "1 of 2 photographs' arteries and veins could not be scored" in done.stderr


def test_eval_av_fails_a_grayscale_photograph_with_an_artery_vein_label(
    tmp_path, make_photo_dataset, run_cli
):
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    image = next((root / "images").glob("eye2.*"))
    Image.open(image).convert("L").save(image)
    evaluation = json.loads(run_cli("eval", root, "--av", "--json", expect=1).stdout)
    assert not evaluation["failed"] and evaluation["n"] == 2
    assert evaluation["photos"][1]["artery_vein_error"] == (
        f"{image}: no colour found (a grayscale or tinted photograph, or one too dark to tell), "
        f"so no arteries and veins to score against {root / 'labels-av' / 'eye2.png'}"
    )
    assert evaluation["artery_vein_n"] == 1  # the colour photograph scored
    assert run_cli("eval", root, "--json").stdout  # without --av it is scored on its vessels


def test_eval_refuses_av_on_patches(patches_npz, run_cli):
    refused = run_cli("eval", patches_npz, "--images", "x", "--labels", "y", "--av", expect=2)
    assert "an .npz file takes no --av" in refused.stderr


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), "av.tflite: "),
        (lambda p: None, "av.tflite: "),  # no such file
    ],
)
def test_a_bad_artery_vein_model_stops_segment_on_one_line(tmp_path, run_cli, make, says):
    model = tmp_path / "av.tflite"
    make(model)
    Image.fromarray(synthetic_fundus(200, 210)).save(tmp_path / "eye.png")
    failed = run_cli("segment", tmp_path / "eye.png", "--av-model", model, "-o", tmp_path, expect=2)
    assert failed.stderr.startswith("Error: ") and says in failed.stderr
    assert failed.stderr.count("\n") == 1 and not list(tmp_path.glob("*_mask.png"))


def test_eval_av_fails_only_the_photograph_whose_artery_vein_label_is_damaged(
    tmp_path, make_photo_dataset, run_cli
):
    import json

    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    blurred = np.asarray(Image.open(root / "labels-av" / "eye1.png")).copy()
    blurred[blurred == 255] = 250  # as a lossy save leaves it
    Image.fromarray(blurred).save(root / "labels-av" / "eye1.png")
    done = run_cli("eval", root, "--av", "--json", expect=1)
    evaluation = json.loads(done.stdout)
    assert [p["name"] for p in evaluation["photos"]] == ["eye1", "eye2"] and not evaluation[
        "failed"
    ]
    damaged, whole = evaluation["photos"]
    assert (
        damaged["artery_vein"] is None
        and "eye1.png: got colour (250, 0, 0)" in (damaged["artery_vein_error"])
    )
    assert whole["artery_vein_error"] is None and evaluation["artery_vein_n"] == 1
    plain = json.loads(run_cli("eval", root, "--json").stdout)  # the vessel scores are the same
    assert [p["f1"] for p in plain["photos"]] == [p["f1"] for p in evaluation["photos"]]


@pytest.mark.parametrize(
    "where, says",
    [
        ("rim", "no artery or vein pixel inside the field of view, expected some to score"),
        ("outside", "of its artery and vein pixels lie inside the field of view, expected at "),
    ],
)
def test_eval_refuses_an_artery_vein_label_off_the_field_of_view(
    tmp_path, make_photo_dataset, run_cli, where, says
):
    """Such a label's photograph was once counted in the artery/vein mean with no scores, or
    scored silently, where a vessel label the same is refused."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    label = root / "labels-av" / "eye2.png"
    colours = np.asarray(Image.open(label)).copy()
    fov = np.asarray(Image.open(next((root / "masks").glob("eye2.*")))) > 0
    if where == "rim":  # a few labelled pixels, none inside
        colours[...] = 0
        colours[0, :4] = CLASS_COLOURS[ArteryVein.ARTERY]
    else:  # all the outside: twice the vessels inside (stripes as many: 0.50 inside, the limit)
        colours[~fov] = CLASS_COLOURS[ArteryVein.VEIN]
    Image.fromarray(colours).save(label)
    done = run_cli("eval", root, "--av", "--json", "--jobs", "1", expect=1)
    evaluation = json.loads(done.stdout)
    error = evaluation["photos"][1]["artery_vein_error"]
    assert error.startswith(f"{label}: ") and says in error
    assert evaluation["artery_vein_n"] == 1 and evaluation["artery_vein_counts"]["accuracy"] == 1


def test_eval_says_over_how_many_an_artery_vein_mean_is_taken(
    tmp_path, make_photo_dataset, run_cli
):
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    label = root / "labels-av" / "eye2.png"
    colours = np.asarray(Image.open(label)).copy()
    colours[(colours != 0).any(axis=2)] = CLASS_COLOURS[ArteryVein.ARTERY]  # no vein
    Image.fromarray(colours).save(label)
    evaluation = json.loads(run_cli("eval", root, "--av", "--json", "--jobs", "1").stdout)
    counts = evaluation["artery_vein_counts"]
    assert evaluation["artery_vein_n"] == 2 and counts["accuracy"] == 2
    assert counts["vein_sensitivity"] == 1
    mean = run_cli("eval", root, "--av", "--jobs", "1").stdout.splitlines()[-1]
    assert mean.startswith("mean of 2 with artery/vein labels: ")
    assert mean.endswith(" (over 1)") and "vein sensitivity " in mean


def test_eval_av_report_summary_carries_the_artery_vein_scores(
    tmp_path, make_photo_dataset, run_cli
):
    """The summary once held the vessel scores alone."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    (root / "labels-av" / "eye2.png").unlink()
    report = tmp_path / "report"
    done = run_cli("eval", root, "--av", "--json", "--jobs", "1", "--report", report)
    evaluation = json.loads(done.stdout)
    with open(report / "summary.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert [r["name"] for r in rows] == ["eye1", "eye2", "(mean of 2)", "(mean over)"]
    scores = evaluation["photos"][0]["artery_vein"]
    assert float(rows[0]["av_accuracy"]) == pytest.approx(scores["accuracy"], abs=5e-5)
    assert rows[1]["av_accuracy"] == "" and rows[1]["f1"] != ""  # no artery/vein label
    assert float(rows[2]["av_accuracy"]) == pytest.approx(scores["accuracy"], abs=5e-5)
    mean_over = (report / "summary.md").read_text().splitlines()[-1]
    assert mean_over == "| mean over | 2 | 2 | 2 | 2 | 2 | " + " | ".join(["1"] * 9) + " |"
    over = rows[3]  # the table says it too: its artery/vein means are over one photograph
    assert (over["f1"], over["av_accuracy"], over["av_artery_dice"]) == ("2", "1", "1")
    plain = tmp_path / "plain"
    run_cli("eval", root, "--jobs", "1", "--report", plain)
    assert "av_" not in (plain / "summary.csv").read_text()


def test_eval_refuses_another_photograph_s_artery_vein_label(tmp_path, make_photo_dataset, run_cli):
    """Swapped, each label was scored against the other photograph (accuracy 0.49 instead of
    0.96 on DRIVE's 06), exit 0: its arteries and veins must lie on the photograph's vessels."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    first, second = root / "labels-av" / "eye1.png", root / "labels-av" / "eye2.png"
    swapped = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(swapped)
    done = run_cli("eval", root, "--av", "--json", "--jobs", "1", expect=1)
    evaluation = json.loads(done.stdout)
    assert evaluation["n"] == 2 and evaluation["artery_vein_n"] == 0  # the vessels still scored
    for photo, label in zip(evaluation["photos"], (first, second), strict=True):
        error = photo["artery_vein_error"]
        assert error.startswith(f"{label}: ") and error.endswith(
            "of its centre lines lie on the photograph's vessel label, expected at least 50% "
            "(another photograph's label?)"
        )


def test_eval_scores_an_artery_vein_label_drawn_wider_than_the_vessel_label(
    tmp_path, make_photo_dataset, run_cli
):
    """Its centre lines, not its pixels, must lie on the vessels: here the vessel label is
    thinned to its centre lines, and most artery/vein pixels lie beside them."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    label = root / "labels" / "eye2.png"
    lines = skeletonize(np.asarray(Image.open(label)) > 0)
    Image.fromarray(lines.astype(np.uint8) * 255).save(label)
    evaluation = json.loads(run_cli("eval", root, "--av", "--json", "--jobs", "1").stdout)
    assert evaluation["artery_vein_n"] == 2


def test_eval_names_the_labels_that_match_no_photograph(tmp_path, make_photo_dataset, run_cli):
    """A misnamed artery/vein label (eye2_av.png) was left unread in silence, its photograph
    scored without arteries and veins."""
    root = _with_artery_vein_labels(make_photo_dataset(tmp_path / "eyes", "generic", count=2))
    misnamed = root / "labels-av" / "eye2_av.png"
    (root / "labels-av" / "eye2.png").rename(misnamed)
    orphan = root / "labels" / "eye3.png"
    orphan.write_bytes((root / "labels" / "eye1.png").read_bytes())
    done = run_cli("eval", root, "--av", "--json", "--jobs", "1")
    assert done.stderr.splitlines()[:2] == [
        f"warning: {path}: matches no photograph's name, so nothing reads it"
        for path in (orphan, misnamed)
    ]
    assert json.loads(done.stdout)["artery_vein_n"] == 1


def test_segment_av_writes_each_class_in_its_own_colour(tmp_path, run_cli):
    """Guards against red and blue swapped in the written map . The existing tests only
    check that the file's colours are among CLASS_COLOURS and that its non-black pixels are the
    mask: a map with arteries and veins swapped passed."""
    path = tmp_path / "eye.png"
    Image.fromarray(synthetic_fundus(260, 280, seed=1)).save(path)
    run_cli("segment", path, "--av", "--jobs", "1", "-o", tmp_path / "out")
    written = np.asarray(Image.open(tmp_path / "out" / "eye_av.png"))
    classes = Segmenter(artery_vein=ArteryVeinModel()).segment(path).artery_vein
    assert {A, V} <= set(np.unique(classes))  # both classes, so a swap shows
    assert (written[classes == A] == (255, 0, 0)).all()  # red artery
    assert (written[classes == V] == (0, 0, 255)).all()  # blue vein
    assert np.array_equal(decode_artery_vein(written, "eye_av.png"), classes)


def test_the_framed_input_keeps_red_green_blue_in_order_and_standardises_inside_the_disc():
    """Guards against the colour planes framed in reverse (BGR) and the field of view taken as the
    whole frame: every existing test reads either one channel or the full-frame statistics."""
    from edge_runtime.pipeline.artery_vein import framed_colour, framed_input

    pixels = synthetic_fundus(300, 320, seed=3)  # a fundus: red mean >> green >> blue
    result = Segmenter().segment(pixels)
    framing = result.prepared.framing.at_diameter(270)
    colour = framed_colour(result.photo, framing)
    top, left, bottom, right = framing.box
    box = result.photo.pixels[top:bottom, left:right].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(colour.reshape(-1, 3).mean(axis=0), box, rtol=0.03)
    assert box[0] > 2 * box[2]  # so that a red/blue swap cannot pass the line above
    inputs, inside = framed_input(result.photo, result.prepared, result.work_probability, 270)
    assert inside.any() and not inside.all()
    assert not inputs[~inside].any()  # nothing outside the disc, the vessel channel neither
    np.testing.assert_allclose(inputs[inside, :3].mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(inputs[inside, :3].std(axis=0), 1, atol=1e-2)


def test_eval_scores_the_classes_inside_the_field_on_the_labels_centre_lines(tmp_path):
    """Guards against eval scoring on the whole frame (fov ignored) or on the prediction's skeleton:
    the eval tests only check which keys a score has and how many photographs were scored."""
    from edge_runtime.evaluation.photos import grade_artery_vein

    truth = np.zeros((40, 40), np.int8)
    truth[10:13, 2:38], truth[25:30, 2:38] = A, V
    colours = CLASS_COLOURS[truth]
    label = tmp_path / "av.png"
    Image.fromarray(colours).save(label)
    fov = np.zeros(truth.shape, bool)
    fov[:, :30] = True  # columns 30-37 lie outside
    classes = np.zeros_like(truth)
    classes[10:13, 2:20], classes[10:13, 20:38] = A, V  # arteries right up to column 19
    classes[25:27, 2:38] = V  # only the vein's upper edge found: off its centre line
    scores = grade_artery_vein(label, classes, fov, truth != 0)
    # graded inside: 3 x 28 artery + 5 x 28 vein = 224; found 84 + 56 = 140; right 54 + 56
    assert scores.found == pytest.approx(140 / 224)
    assert scores.accuracy == pytest.approx(110 / 140)
    expected = artery_vein_scores(truth, classes, fov, skeletonize(truth != 0))
    assert scores == expected
    # the checks above can tell: a frame-wide or a prediction-skeleton score differs
    assert (
        artery_vein_scores(truth, classes, np.ones_like(fov), skeletonize(truth != 0)) != expected
    )
    assert artery_vein_scores(truth, classes, fov, skeletonize(classes != 0)) != expected
