"""Our measurements against PVBM's on the same labelled maps (the reference check).

    python benchmarks/measure_reference.py ../shared/data --python /path/to/pvbm-python

For each labelled photograph of the data folder's cameras (DRIVE's 1st_manual, STARE's
labels-ah, GAVE's and LES-AV's labels, inside their field-of-view masks; and their artery/vein
labels, whose disc is sized by the set's field of view in degrees,
:meth:`~edge_runtime.measure.labelled.LabelledMap.camera_scale`: DRIVE's 45, LES-AV's 30 and 45
by the photograph's size; GAVE's is not stated, so a 45-degree field is assumed), the maps are
measured here and, through ``pvbm_reference.py``, by PVBM in a Python that has it
(``--python``; PVBM brings PyTorch and OpenCV, so it lives in a virtual environment of its
own). Prints, per measurement, how many maps, the Pearson correlation
across them, the mean difference (ours - PVBM) and the mean and largest relative difference.
``d0``, ``d1``, ``d2`` use PVBM's box sizes on both sides (the same definition, an
implementation check); ``d0 (defaults)`` compares each side's own settings.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

from edge_runtime.measure.field import field_from_mask, whole_frame
from edge_runtime.measure.fractal import fractal_dimensions
from edge_runtime.measure.labelled import CAMERAS, LabelledMap, labelled_maps
from edge_runtime.measure.maps import read_field_mask, read_map
from edge_runtime.measure.measurements import analyse_map

SCRIPT = Path(__file__).with_name("pvbm_reference.py")

KEYS = (
    "area",
    "length",
    "end_points",
    "branch_points",
    "tortuosity_median",
    "tortuosity_index",
    "d0",
    "d1",
    "d2",
    "d0_default",
    "crae",
    "crve",
    "avr",
)
"""The measurements compared, as both sides name them."""


def pvbm_box_sizes(shape: tuple[int, int]) -> list[int]:
    """PVBM's box sides (``pvbm_reference.box_sizes``): 20 from 5 to 0.6 of the short side."""
    return [int(s) for s in np.linspace(5, int(0.6 * min(shape)), 20).astype(np.int64)]


def ours(item: LabelledMap, folder: Path) -> tuple[dict, dict]:
    """Our measurements of one labelled photograph, and its PVBM job (maps saved in
    ``folder``)."""
    vessels = read_map(item.label).vessels
    field = field_from_mask(read_field_mask(item.mask)) if item.mask else whole_frame(vessels.shape)
    vessels &= field.mask
    scale = item.camera_scale(vessels.shape).scale(field.spanned_px)
    measured = analyse_map(read_map(item.label), field, scale).measurements.vessels
    fractal = fractal_dimensions(vessels, pvbm_box_sizes(vessels.shape))
    stem = f"{item.camera}-{item.name}"
    np.save(folder / f"{stem}.npy", vessels)
    record = {
        "area": measured.vessel_pixels,
        "length": measured.length_px,
        "end_points": measured.end_points,
        "branch_points": measured.branch_points,
        "tortuosity_median": measured.tortuosity_median,
        "tortuosity_index": measured.tortuosity_index,
        "d0": fractal.d0,
        "d1": fractal.d1,
        "d2": fractal.d2,
        "d0_default": measured.d0,
    }
    job = {"name": stem, "vessels": str(folder / f"{stem}.npy")}
    if item.artery_vein:
        av = read_map(item.artery_vein, artery_vein=True)
        analysis = analyse_map(av, field, scale)
        found, disc = analysis.measurements.calibers, analysis.disc
        if found and disc:
            record.update(crae=found.crae_px, crve=found.crve_px, avr=found.avr)
            for name in ("arteries", "veins"):
                np.save(folder / f"{stem}-{name}.npy", getattr(av, name) & field.mask)
                job[name] = str(folder / f"{stem}-{name}.npy")
            job["disc"] = [disc.center_x, disc.center_y, disc.diameter_px]
    return record, job


def agreement(pairs: list[tuple[float, float]]) -> tuple[int, float, float, float, float]:
    """n, Pearson r, mean difference (ours - reference), mean and largest relative
    difference."""
    a, b = np.array(pairs, dtype=np.float64).T
    relative = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
    r = float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() and b.std() else float("nan")
    return len(a), r, float((a - b).mean()), float(relative.mean()), float(relative.max())


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--python", "python", required=True, help="A Python that has PVBM installed.")
@click.option("--cameras", default=",".join(CAMERAS), show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
def main(data_dir: Path, python: str, cameras: str, limit: int | None) -> None:
    """Print the agreement of each measurement with PVBM's."""
    items = labelled_maps(data_dir, tuple(cameras.split(",")))
    if limit:
        items = [i for c in CAMERAS for i in [i for i in items if i.camera == c][:limit]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records, jobs = {}, []
        for item in items:
            record, job = ours(item, folder)
            records[job["name"]] = record
            jobs.append(job)
        (folder / "jobs.json").write_text(json.dumps(jobs))
        done = subprocess.run(
            [python, str(SCRIPT), str(folder / "jobs.json")],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode:
        sys.exit(f"PVBM failed: {done.stderr.strip().splitlines()[-1:]}")
    reference = [json.loads(line) for line in done.stdout.splitlines()]
    for record in reference:
        if record.get("crae", -1) > 0 and record.get("crve", -1) > 0:
            record["avr"] = record["crae"] / record["crve"]
    print(f"{len(items)} labelled photographs ({cameras})")
    print("| measurement | maps | Pearson r | mean difference | mean rel. diff. | max rel. diff. |")
    print("|---|---|---|---|---|---|")
    for key in KEYS:
        pairs = [
            (records[r["name"]][key], r[key])
            for r in reference
            if records[r["name"]].get(key) is not None and r.get(key) is not None and r[key] != -1
        ]
        if pairs:
            n, r, bias, mean_rel, max_rel = agreement(pairs)
            print(f"| {key} | {n} | {r:.3f} | {bias:+.4g} | {mean_rel:.2%} | {max_rel:.2%} |")


if __name__ == "__main__":
    main()
