"""From pixels to millimetres on the retina.

The convention: millimetres per pixel = the field of view's diameter in millimetres on the
retina / its diameter in pixels, with :data:`MM_PER_DEGREE` millimetres of retina per degree of
the camera's field of view. That constant holds for an average (emmetropic) eye; an eye's own
length and refraction change it by up to about 10 % either way, which no photograph tells
(Littmann's and Bennett's corrections need the eye's biometry).
"""

import dataclasses
import math
from dataclasses import dataclass
from numbers import Real

from edge_runtime.contract.schema import check_type

MM_PER_DEGREE = 0.288
"""Millimetres of retina per degree of visual angle, Gullstrand's schematic eye (the value
fundus photography's measurements conventionally use)."""


@dataclass(frozen=True)
class Scale:
    """Millimetres on the retina per pixel of a map, and where that comes from."""

    mm_per_px: float
    source: str

    def __post_init__(self):
        """Refuse a pixel size that is no size: every millimetre made of it would be wrong.

        Raises:
            ValueError: it is not a finite number above 0.
        """
        size = self.mm_per_px
        is_number = isinstance(size, Real) and not isinstance(size, bool)
        if not (is_number and math.isfinite(size) and size > 0):
            raise ValueError(f"got {size!r} mm per pixel, expected a size above 0")


def scale_from_pixel_size(mm_per_px: float) -> Scale:
    """A scale given directly (a camera's calibration)."""
    checked = Scale(mm_per_px, "given")
    return dataclasses.replace(checked, source=f"given: {mm_per_px:g} mm per pixel")


def scale_from_field(degrees: float, field_diameter_px: float) -> Scale:
    """The scale of a map whose field of view, ``degrees`` wide, is ``field_diameter_px``
    pixels across.

    Raises:
        ValueError: the field of view is not a number of pixels above 0, or the scale is no
            size (:class:`Scale`).
    """
    if not field_diameter_px > 0:  # NaN too
        raise ValueError(f"got a field of view {field_diameter_px} pixels across, expected more")
    return Scale(
        degrees * MM_PER_DEGREE / field_diameter_px,
        f"{degrees:g} degree field of view, {field_diameter_px:.0f} pixels across, "
        f"{MM_PER_DEGREE} mm per degree",
    )


PIXEL_MM = (1e-4, 1.0)
"""The pixel sizes in millimetres a camera may give: from a 25-megapixel photograph of a narrow
field (about 0.002 mm a pixel) to a thumbnail (0.2), with a margin; a value outside is a unit
mistake (micrometres given as millimetres, say), whose millimetres would all be wrong."""

FIELD_DEGREES = (1, 180)
"""The fields of view in degrees a camera may give, across its field-of-view disc."""


class NoScale(ValueError):
    """A camera's field of view in degrees over the field of view found makes no pixel size a
    camera has (:data:`PIXEL_MM`): every millimetre would be wrong."""


@dataclass(frozen=True)
class CameraScale:
    """How a run knows millimetres on the retina: a pixel size given (``mm_per_px``, a
    camera's calibration at one resolution) or the camera's field of view in degrees
    (``field_degrees``, across each map's field of view, whatever its resolution); neither:
    pixels only. At most one is set."""

    mm_per_px: float | None = None
    field_degrees: float | None = None

    def __post_init__(self):
        """Refuse a scale that would give wrong millimetres rather than none.

        Raises:
            ValueError: both are set, the pixel size is outside :data:`PIXEL_MM`, or the
                field of view outside :data:`FIELD_DEGREES`.
        """
        if self.mm_per_px is not None and self.field_degrees is not None:
            raise ValueError("got a pixel size and a field of view in degrees, expected one")
        for name in ("mm_per_px", "field_degrees"):
            check_type(name, getattr(self, name), Real)
        size = self.mm_per_px
        small, large = PIXEL_MM
        if size is not None and not (math.isfinite(size) and small <= size <= large):
            raise ValueError(f"got {size} mm per pixel, expected {small:g} to {large:g}")
        low, high = FIELD_DEGREES
        degrees = self.field_degrees
        if degrees is not None and not (math.isfinite(degrees) and low <= degrees <= high):
            raise ValueError(
                f"got a field of view of {degrees} degrees, expected {low:g} to {high:g}"
            )

    def scale(self, field_diameter_px: float | None) -> Scale | None:
        """The scale of a map whose field of view is ``field_diameter_px`` pixels across
        (``None``: no field of view was found, so a field in degrees gives no scale).

        Raises:
            NoScale: the field in degrees over that many pixels makes a pixel size outside
                :data:`PIXEL_MM` (a field of view found a few pixels across).
        """
        if self.mm_per_px is not None:
            return scale_from_pixel_size(self.mm_per_px)
        if self.field_degrees is None or field_diameter_px is None:
            return None
        small, large = PIXEL_MM
        if not field_diameter_px > 0:  # no field: any pixel size would be made up
            raise NoScale(f"a field of view {field_diameter_px:g} pixels across: no millimetres")
        found = scale_from_field(self.field_degrees, field_diameter_px)
        if not small <= found.mm_per_px <= large:
            raise NoScale(
                f"a field of view {field_diameter_px:.0f} pixels across makes "
                f"{self.field_degrees:g} degrees {found.mm_per_px:.3g} mm a pixel, expected "
                f"{small:g} to {large:g}: no millimetres"
            )
        return found


PIXELS_ONLY = CameraScale()
"""No scale known: measurements in pixels only."""
