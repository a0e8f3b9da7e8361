"""Leave-photographs-out cross-validation of a training recipe on several cameras, in one run.

    python benchmarks/cross_validation.py ../shared/data --out runs/cv -- --arch unet-lite \\
        --width 14 --jitter --epochs 40 --lr 0.006 --schedule cosine

Each camera's photographs (``--camera``, repeated; DRIVE's 16 and STARE's 20 by default) are
split into ``--folds`` folds (by sorted name, every k-th photograph). For each fold, a model is
trained with ``edge-seg train`` (the options after ``--``) on the other folds of every camera
(its own holdout, a fifth of those photographs, chooses the epoch and threshold), converted to
int8 behind the gate on the fold's photographs,
and evaluated with ``edge-seg eval`` on the fold's photographs of each camera, which it never
saw. Prints per fold and overall (every photograph scored exactly once) F1 and AUC per camera,
and the int8 gate's figures; writes ``summary.json``. About an hour per recipe on 2 cores.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import numpy as np

from edge_runtime.data.photos import PhotoDataset, find_dataset

EDGE_SEG = [sys.executable, "-m", "edge_runtime.cli.main"]


def _subset(dataset: PhotoDataset, names: set[str], out: Path) -> Path:
    """A copy of some of a dataset's photographs, in the generic layout."""
    for photo in dataset.photos:
        if photo.name not in names:
            continue
        for folder, path in (
            ("images", photo.image),
            ("labels", photo.label),
            ("masks", photo.mask),
        ):
            if path is not None:
                (out / folder).mkdir(parents=True, exist_ok=True)
                shutil.copy(path, out / folder / f"{photo.name}{path.suffix}")
    return out


def _mean(values) -> float:
    """Mean of the defined values (a photograph without vessels has no AUC)."""
    return float(np.mean([v for v in values if v is not None]))


def _run(*args) -> str:
    done = subprocess.run([*EDGE_SEG, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise click.ClickException(f"edge-seg {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--folds", type=click.IntRange(2, 10), default=4, show_default=True)
@click.option(
    "--camera",
    "camera_names",
    multiple=True,
    default=("drive", "stare"),
    show_default=True,
    help="A camera's folder under DATA_DIR (repeat for each camera trained on and scored).",
)
@click.option(
    "--reuse",
    is_flag=True,
    help="Keep the folds' models already trained in --out (by the same --folds, --camera and "
    "options: not checked).",
)
@click.argument("train_options", nargs=-1, type=click.UNPROCESSED)
def main(
    data_dir: Path,
    out: Path,
    folds: int,
    camera_names: tuple[str, ...],
    reuse: bool,
    train_options: tuple[str, ...],
) -> None:
    """Cross-validate `edge-seg train TRAIN_OPTIONS` over the cameras' folders in DATA_DIR."""
    cameras = {name: find_dataset(data_dir / name) for name in camera_names}
    scores: dict[str, list[dict]] = {name: [] for name in cameras}
    gates = []
    for fold in range(folds):
        where = out / f"fold{fold}"
        for stale in where.glob("*") if where.is_dir() else ():  # another run's photographs
            if stale.name != "run" or not reuse:
                shutil.rmtree(stale)
        train_data, test_data = [], {}
        for name, dataset in cameras.items():
            names = [p.name for p in dataset.photos]
            test = {n for i, n in enumerate(names) if i % folds == fold}
            train_data.append(_subset(dataset, set(names) - test, where / f"{name}-train"))
            test_data[name] = _subset(dataset, test, where / f"{name}-test")
        run = where / "run"
        if not (reuse and (run / "model.keras").exists()):
            _run("train", *train_data, "--out", run, "--overwrite", *train_options)
        keras_model, int8 = run / "model.keras", run / "model_int8.tflite"
        tests = list(test_data.values())  # one folder a camera: fields given or detected
        check_data = [arg for folder in tests for arg in ("--check-data", folder)]
        output = ["-o", int8, "--overwrite"]  # a fold's earlier conversion, with reuse
        _run("convert", keras_model, "--calibration", train_data[0], *check_data, *output)
        data = [arg for folder in tests for arg in ("--data", folder)]
        gate = json.loads(_run("check", "--keras", keras_model, "--tflite", int8, *data, "--json"))
        gates.append({k: gate[k] for k in ("mean_drop", "max_image_drop", "pixel_agreement")})
        for name in cameras:
            report = json.loads(_run("eval", test_data[name], "--model", int8, "--json"))
            scores[name] += report["photos"]
            click.echo(
                f"fold {fold} {name}: F1 {report['mean']['f1']:.4f} AUC "
                f"{report['mean']['auc']:.4f} ({report['n']} photographs)"
            )
    summary = {
        name: {m: _mean(p[m] for p in photos) for m in ("f1", "auc")} | {"n": len(photos)}
        for name, photos in scores.items()
    }
    summary["gate"] = {k: float(np.mean([g[k] for g in gates])) for k in gates[0]}
    summary["options"] = list(train_options)
    (out / "summary.json").write_text(json.dumps({**summary, "photos": scores}, indent=1))
    for name in cameras:
        click.echo(
            f"{name}: F1 {summary[name]['f1']:.4f}, AUC {summary[name]['auc']:.4f} over "
            f"{summary[name]['n']} photographs, each scored once, unseen"
        )
    click.echo(
        f"int8 gate, mean over folds: drop {summary['gate']['mean_drop']:+.4f}, agreement "
        f"{summary['gate']['pixel_agreement']:.4%}"
    )


if __name__ == "__main__":
    main()
