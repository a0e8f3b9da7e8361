"""A picture of what was measured on a map: its skeleton, end and branch points, the optic disc
with zone B, and the vessels that entered CRAE and CRVE, with the main numbers written on it."""

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from edge_runtime.measure.caliber import ZONE_B, ZoneVessel
from edge_runtime.measure.measurements import MapAnalysis, VesselMeasurements

COLOURS = {
    "outside": (16, 16, 16),
    "field": (40, 40, 40),
    "vessel": (95, 95, 95),
    "skeleton": (235, 235, 235),
    "end": (0, 200, 255),
    "branch": (255, 200, 0),
    "disc": (0, 230, 90),
    "artery": (255, 40, 40),
    "vein": (60, 110, 255),
    "text": (255, 255, 255),
}
"""The colours (RGB) of each thing drawn."""

INK = {name: index for index, name in enumerate(COLOURS)}
"""Each thing's index in the picture's palette (:data:`COLOURS` in order)."""

MARGIN = 4
"""Pixels between the picture's edge and its text."""

LINE_HEIGHT = 12
"""Pixels from one line of the picture's text to the next."""


def _summary(m: VesselMeasurements, name: str) -> str:
    width = "-" if m.mean_width_px is None else f"{m.mean_width_px:.1f} px"
    d0 = "-" if m.d0 is None else f"{m.d0:.3f}"
    tortuosity = "-" if m.tortuosity_median is None else f"{m.tortuosity_median:.3f}"
    return (
        f"{name}: density {m.density:.1%}, length {m.length_px:.0f} px, width {width}, "
        f"D0 {d0}, tortuosity {tortuosity}, {m.end_points} ends, {m.branch_points} branches"
    )


def _lines(analysis: MapAnalysis) -> list[str]:
    m = analysis.measurements
    lines = [_summary(m.vessels, "vessels")]
    lines += [_summary(c, name) for c, name in ((m.arteries, "arteries"), (m.veins, "veins")) if c]
    if m.disc:
        lines.append(f"disc: confidence {m.disc.confidence:.2f} (not validated)")
    if m.calibers:
        c = m.calibers
        lines.append(
            f"CRAE {c.crae_px:.1f} px, CRVE {c.crve_px:.1f} px, AVR {c.avr:.2f}{c.doubts()}"
        )
    return lines


def _ring(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (rows, columns) from a point of the circle of ``radius`` drawn around it."""
    centre = int(np.ceil(radius)) + 1
    stamp = Image.new("1", (2 * centre + 1, 2 * centre + 1))
    box = (centre - radius, centre - radius, centre + radius, centre + radius)
    ImageDraw.Draw(stamp).ellipse(box, outline=1)
    rows, columns = np.nonzero(np.asarray(stamp))
    return rows - centre, columns - centre


def _circle(pixels: np.ndarray, points: np.ndarray, ink: int, radius: float) -> None:
    """Circle each point (an (N, 2) array of rows and columns, rounded to the pixel) in
    ``pixels``, an offset at a time over all points (drawn one at a time, a noisy map's 695,000
    end points took 6.5 s)."""
    height, width = pixels.shape
    ys, xs = np.rint(points).astype(np.intp).reshape(-1, 2).T
    for dy, dx in zip(*_ring(radius), strict=True):
        y, x = ys + dy, xs + dx
        inside = (y >= 0) & (y < height) & (x >= 0) & (x < width)
        pixels[y[inside], x[inside]] = ink


def _chosen(analysis: MapAnalysis) -> list[tuple[ZoneVessel, int]]:
    """The vessels that entered CRAE and CRVE, each with its class's ink."""
    if not analysis.calibers:
        return []
    return [(v, INK["artery"]) for v in analysis.calibers.arteries] + [
        (v, INK["vein"]) for v in analysis.calibers.veins
    ]


def draw_picture(analysis: MapAnalysis) -> Image.Image:
    """The picture of one map (the map's size): a palette image of :data:`COLOURS`, a byte a
    pixel (painted in RGB, a 25-megapixel map's picture took 420 MB more than measuring it)."""
    shape = analysis.vessels.shape
    pixels = np.full(shape, INK["outside"], dtype=np.uint8)
    pixels[analysis.field.mask] = INK["field"]
    pixels[analysis.vessels] = INK["vessel"]
    graph = analysis.traced.graph
    pixels[graph.points[:, 0], graph.points[:, 1]] = INK["skeleton"]
    chosen = _chosen(analysis)
    for vessel, ink in chosen:
        pixels[vessel.ys, vessel.xs] = ink
    dot = max(2.0, min(shape) / 200)
    _circle(pixels, graph.end_points, INK["end"], dot)
    _circle(pixels, graph.branch_points, INK["branch"], dot)
    picture = Image.fromarray(pixels)
    picture.putpalette([level for colour in COLOURS.values() for level in colour])
    draw = ImageDraw.Draw(picture)
    disc = analysis.disc
    if disc:
        for radius in (0.5, *ZONE_B):  # the disc's margin, then zone B's two edges
            r = radius * disc.diameter_px
            box = (disc.center_x - r, disc.center_y - r, disc.center_x + r, disc.center_y + r)
            draw.ellipse(box, outline=INK["disc"], width=2 if radius == 0.5 else 1)
    for vessel, ink in chosen:
        middle = len(vessel.ys) // 2
        draw.text((vessel.xs[middle] + dot, vessel.ys[middle]), f"{vessel.width_px:.1f}", fill=ink)
    rows = fitted(_lines(analysis), shape[1] - 2 * MARGIN, draw.textlength)
    for row, line in enumerate(rows):
        draw.text((MARGIN, MARGIN + LINE_HEIGHT * row), line, fill=INK["text"])
    return picture


def fitted(lines: list[str], width: float, length: Callable[[str], float]) -> list[str]:
    """``lines`` broken at spaces into rows no longer than ``width`` by ``length`` (a word
    longer alone keeps a row of its own): a narrow map's picture showed only the start of its
    longer lines, the calibers' caveats cut off."""
    rows = []
    for line in lines:
        start = len(rows)
        for word in line.split(" "):
            if len(rows) > start and length(f"{rows[-1]} {word}") <= width:
                rows[-1] += f" {word}"
            else:
                rows.append(word)
    return rows
