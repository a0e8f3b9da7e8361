"""``edge-seg datasets``: the labelled sets the project reads: list them, fetch those with a
public download, prepare those downloaded by hand."""

import dataclasses
import os
import sys
from pathlib import Path

import click

from edge_runtime.cli.groups import NamingGroup
from edge_runtime.cli.options import NonBlankPath, json_option
from edge_runtime.contract.schema import json_text
from edge_runtime.data.catalog import DATASETS, Dataset
from edge_runtime.data.fetch import check_mirror
from edge_runtime.data.fetch import fetch as fetch_dataset
from edge_runtime.data.unpack import Prepared
from edge_runtime.data.unpack import prepare as prepare_dataset
from edge_runtime.errors import InputError, NetworkError, one_line
from edge_runtime.processes import ending_cleanly_on_sigterm

MIRROR_ENV = "EDGE_SEG_DATA_MIRROR"

_name = click.argument("name", type=click.Choice(list(DATASETS), case_sensitive=False))
_outdir = click.option(
    "-o",
    "--outdir",
    type=NonBlankPath(file_okay=False, path_type=Path),
    default=None,
    help="Folder to unpack into (it must not exist yet, or be empty) [default: data/NAME].",
)


class _Bars:
    """A click progress bar for each step (a download, unpacking, the check), when stderr is a
    terminal (click would otherwise print each step's name)."""

    def __init__(self) -> None:
        self._what: str | None = None
        self._bar = None
        self._shown = 0

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if what != self._what:
            self.close()
            self._what, self._shown = what, 0
            if total is not None and sys.stderr.isatty():
                self._bar = click.progressbar(length=total, label=what, file=sys.stderr)
        if self._bar is not None:
            self._bar.update(done - self._shown)
            self._shown = done

    def close(self) -> None:
        """End the bar being drawn."""
        if self._bar is not None:
            self._bar.render_finish()
            self._bar = None


@click.group(cls=NamingGroup)
def datasets() -> None:
    """Public labelled datasets: list them, fetch or prepare them for eval and train.

    fetch downloads those with a public download; prepare unpacks the archives of those
    downloaded by hand (behind a registration). Either checks the set and puts it in data/NAME
    in the layout eval and train read."""


def _fields(dataset: Dataset) -> str:
    """Its camera's fields of view in degrees, each with its photographs' size, or none
    stated."""
    return ", ".join(f"{degrees:g}° ({size})" for size, degrees in dataset.fields) or "not stated"


@datasets.command("list")
@json_option
def list_datasets(as_json: bool) -> None:
    """Each dataset's origin, licence, camera and its field of view, photographs, labels, and
    how to get it."""
    if as_json:
        click.echo(json_text([dataclasses.asdict(d) for d in DATASETS.values()], indent=2))
        return
    for dataset in DATASETS.values():
        click.echo(
            f"{dataset.name}: {dataset.title}\n"
            f"  origin: {dataset.origin}; {dataset.homepage}\n"
            f"  licence: {dataset.licence}\n"
            f"  photographs: {dataset.photographs}, {dataset.resolution}\n"
            f"  camera: {dataset.camera}\n"
            f"  field of view: {_fields(dataset)}\n"
            f"  labels: {dataset.labels}\n"
            f"  get it: {dataset.how_to_get()}\n"
        )


def _check_mirror_setting(mirror: str | None) -> None:
    """Refuse a bad mirror as a bad option is refused (naming the command and its ``--help``),
    and which setting gave it: ``--mirror``, or :data:`MIRROR_ENV`, set empty too (click
    takes that for unset: an off-line site's setting would download from the publishers)."""
    source = click.get_current_context().get_parameter_source("mirror")
    if source is click.core.ParameterSource.ENVIRONMENT or (
        mirror is None and os.environ.get(MIRROR_ENV) == ""
    ):
        given, setting = os.environ[MIRROR_ENV], f"${MIRROR_ENV}"
    elif mirror is not None:
        given, setting = mirror, "--mirror"
    else:
        return
    try:
        check_mirror(given)
    except InputError as exc:
        raise click.UsageError(f"{setting}: {exc}") from None


@datasets.command()
@_name
@_outdir
@click.option(
    "--mirror",
    envvar=MIRROR_ENV,
    show_envvar=True,
    default=None,
    help="Download from this server instead of the publishers' (a site without internet "
    "access keeps their archives there as MIRROR/NAME/FILE); set but empty, nothing is "
    "downloaded.",
)
def fetch(name: str, outdir: Path | None, mirror: str | None) -> None:
    """Download a public dataset, check it and put it in data/NAME.

    A download cut short is resumed by running the command again (exit status 1 for a network
    failure, 2 for an archive refused)."""
    dataset = DATASETS[name]
    _check_mirror_setting(mirror)
    bars = _Bars()
    try:
        with ending_cleanly_on_sigterm():
            prepared = fetch_dataset(dataset, outdir or Path("data", name), mirror, bars)
    except NetworkError as exc:
        raise click.ClickException(one_line(str(exc))) from None  # exit 1: try again later
    finally:
        bars.close()
    _report(dataset, prepared)


@datasets.command()
@_name
@click.argument("archives", nargs=-1, required=True, type=NonBlankPath(path_type=Path))
@_outdir
def prepare(name: str, archives: tuple[Path, ...], outdir: Path | None) -> None:
    """Unpack a dataset from ARCHIVES downloaded by hand, check it, put it in data/NAME.

    ARCHIVES are the publisher's files as downloaded (behind a registration or a web page);
    edge-seg datasets list names them."""
    dataset = DATASETS[name]
    bars = _Bars()
    try:
        with ending_cleanly_on_sigterm():
            prepared = prepare_dataset(dataset, archives, outdir or Path("data", name), bars)
    finally:
        bars.close()
    _report(dataset, prepared)


def _report(dataset: Dataset, prepared: Prepared) -> None:
    click.echo(
        f"{dataset.name}: {prepared.photographs} labelled photographs, {prepared.files} files "
        f"({prepared.bytes / 2**20:.1f} MiB) in {prepared.root}, {dataset.layout} layout; "
        f"edge-seg eval {prepared.root}"
    )
