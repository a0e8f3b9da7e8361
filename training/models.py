"""Model architectures, one registry entry each, all from a 64x64 patch to its vessel map.

An architecture is a builder function registered with :func:`architecture`, which names it and
gives its one-line summary (``train --arch``'s help is made from it; the README's table shows
it). Adding an architecture is adding such a function here and its expected size to
``tests/host/test_models.py``. Each maps a (64, 64, 1) patch in [0, 1] to a vessel probability
map:

- ``seed``: the reference notebook's autoencoder as its code builds it, bicubic upsampling
  included. Kept for reproduction only: bicubic resizing needs TensorFlow (Flex) ops, so it has no
  builtin int8 LiteRT form.
- ``seed-edge``: the same topology and parameter count with upsampling that lowers to builtin ops
  (RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR).
- ``unet``: a small U-Net (skip connections, batch norm, transposed-convolution upsampling)
  whose size is set by ``width``.
- ``unet-lite``: a U-Net that works at half resolution for speed: a 2x2 stride-2 stem (like
  space-to-depth), additive skips instead of concatenation, and a 2x2 transposed convolution
  back to full resolution. Few-channel int8 convolutions at 64x64 and the concatenated skips are
  the slowest work of the full-resolution U-Net on a CPU; this design has neither.

Each is converted in its device form, :func:`pixel_shuffled`: each 2x2 stride-2 transposed
convolution becomes the same map in CONV_2D, CONCATENATION and RESHAPE (the weights carried
over; for ``unet-lite``, measured on an AMX Xeon, faster for a batch of tiles and for one field
alike); training keeps the transposed convolutions.

Every builder takes ``batch_size``: ``None`` for training, 1 for export (the Edge TPU needs a
static batch-1 input). Keras is imported inside the builders, so that the registry, and with it
``edge-seg train --help``, is read without TensorFlow.

Model kinds: every architecture here is a *tile* model (a 64x64 patch in, its probabilities
out; the device tiles the working photograph and stitches the tiles). A second kind, a fully
convolutional model of the whole working disc (planned for release 1.2; its screening is in
firmware_notes/MODEL_CARD.md), is more than a registry entry: it plugs in where tiles are
assumed, which is where training samples are cut (``training.sources``: crops of
``PATCH_SIZE``), what the model card declares (``patch_size``, which ``PatchModel`` checks the
model's input against), and the device's ``Segmenter``, whose tile stages such a model replaces
by one invoke on the working photograph. Until there is such a model there is no kind setting,
rather than one with a single value.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.contract.preprocessing import PATCH_SIZE

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its name, what it is, and how it is built."""

    name: str
    summary: str
    """One line: what it is and what it is for."""
    build: Callable[..., "keras.Model"]
    """``build(batch_size)``, and ``width=`` when :attr:`sized`."""
    sized: bool
    """Whether ``--width`` sets its size."""
    int8: bool
    """Whether it converts to builtin int8 LiteRT ops (else it needs TensorFlow ops)."""

    @property
    def description(self) -> str:
        """The summary, and whether it lacks an int8 form (``--arch``'s help, the README)."""
        return self.summary + ("" if self.int8 else ", no int8 LiteRT form (needs TensorFlow ops)")


ARCHITECTURES: dict[str, Architecture] = {}
"""The architectures by name, in the order they are registered."""


def architecture(name: str, summary: str, *, sized: bool = False, int8: bool = True) -> Callable:
    """Register the decorated builder as architecture ``name`` (see :class:`Architecture`)."""

    def register(build: Callable[..., "keras.Model"]) -> Callable[..., "keras.Model"]:
        if name in ARCHITECTURES:
            raise ValueError(f"got architecture {name!r} twice, expected each name once")
        ARCHITECTURES[name] = Architecture(name, summary, build, sized, int8)
        return build

    return register


def _conv(x, filters: int, kernel: int = 3, name: str | None = None):
    from keras import layers

    return layers.Conv2D(filters, kernel, padding="same", activation="relu", name=name)(x)


def _seed_topology(batch_size: int | None, name: str, upsample_1, upsample_2) -> "keras.Model":
    """Conv 4-8 / 16-32 / 64-64 / 32-32 / 4-4 with two 2x poolings, dropout, 1x1 sigmoid."""
    import keras
    from keras import layers

    inputs = keras.Input((PATCH_SIZE, PATCH_SIZE, 1), batch_size=batch_size, name="patch")
    x = _conv(_conv(inputs, 4), 8)
    x = layers.MaxPooling2D(2)(x)
    x = _conv(_conv(x, 16), 32)
    x = layers.MaxPooling2D(2)(x)
    x = _conv(_conv(x, 64), 64)
    x = layers.Dropout(0.2)(x)
    x = upsample_1(x)
    x = _conv(_conv(x, 32), 32)
    x = upsample_2(x)
    x = _conv(_conv(x, 4), 4)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="vessel_probability")(x)
    return keras.Model(inputs, outputs, name=name)


@architecture(
    "seed",
    "the reference notebook's autoencoder (90,589 parameters, bicubic upsampling)",
    int8=False,
)
def build_seed(batch_size: int | None = None) -> "keras.Model":
    """The notebook's autoencoder (90,589 parameters): bicubic then nearest 2x upsampling."""
    from keras import layers

    return _seed_topology(
        batch_size,
        "seed",
        layers.UpSampling2D(2, interpolation="bicubic", name="upsample_bicubic"),
        layers.UpSampling2D(2, interpolation="nearest", name="upsample_nearest"),
    )


@architecture("seed-edge", "the same topology with bilinear/nearest resizing (builtin ops)")
def build_seed_edge(batch_size: int | None = None) -> "keras.Model":
    """The notebook's topology with builtin-op upsampling: bilinear, then nearest resizing."""
    from keras import layers

    half = PATCH_SIZE // 2
    return _seed_topology(
        batch_size,
        "seed_edge",
        layers.Resizing(half, half, interpolation="bilinear", name="upsample_bilinear"),
        layers.Resizing(PATCH_SIZE, PATCH_SIZE, interpolation="nearest", name="upsample_nearest"),
    )


def _double_conv(x, filters: int):
    from keras import layers

    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    return x


@architecture("unet", "small U-Net with skip connections", sized=True)
def build_unet(batch_size: int | None = None, width: int = 8, depth: int = 3) -> "keras.Model":
    """A U-Net with ``depth`` 2x poolings; level ``i`` has ``width * 2**i`` channels.

    Each level is two 3x3 convolutions with batch norm (folded into the convolutions on export) and
    ReLU; the decoder upsamples with 2x2 transposed convolutions and concatenates the skip.
    """
    import keras
    from keras import layers

    if width < 1 or depth < 1 or PATCH_SIZE % 2**depth:
        raise ValueError(
            f"got width {width}, depth {depth}, expected width >= 1 and 1 <= depth <= 6"
        )
    inputs = keras.Input((PATCH_SIZE, PATCH_SIZE, 1), batch_size=batch_size, name="patch")
    skips = []
    x = inputs
    for level in range(depth):
        x = _double_conv(x, width * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = _double_conv(x, width * 2**depth)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(width * 2**level, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skips[level]])
        x = _double_conv(x, width * 2**level)
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="vessel_probability")(x)
    return keras.Model(inputs, outputs, name=f"unet_w{width}_d{depth}")


def _conv_bn_relu(x, filters: int, kernel: int = 3, strides: int = 1):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


@architecture(
    "unet-lite",
    "U-Net at half resolution (2x2 stride-2 stem, additive skips, transposed-convolution head), "
    "built for CPU speed",
    sized=True,
)
def build_unet_lite(
    batch_size: int | None = None,
    width: int = 12,
    depth: int = 2,
    *,
    size: int = PATCH_SIZE,
    channels: int = 1,
    output: str = "vessel_probability",
    maps: int = 1,
) -> "keras.Model":
    """Half-resolution U-Net to ``maps`` probability maps of ``size`` x ``size`` (one by default).

    A 2x2/2 stem to half the size, ``depth`` poolings, additive skips, and a 2x2/2
    transposed-convolution head with a sigmoid, named ``output``; ``channels`` inputs.
    """
    import keras
    from keras import layers

    if width < 1 or depth < 1 or size // 2 % 2**depth:
        raise ValueError(
            f"got width {width}, depth {depth}, size {size}, expected width >= 1, depth >= 1 "
            f"and the size a multiple of 2**(depth + 1)"
        )
    inputs = keras.Input((size, size, channels), batch_size=batch_size, name="patch")
    x = _conv_bn_relu(inputs, width, kernel=2, strides=2)
    skips = []
    for level in range(depth):
        x = _conv_bn_relu(_conv_bn_relu(x, width * 2**level), width * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = _conv_bn_relu(_conv_bn_relu(x, width * 2**depth), width * 2**depth)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(width * 2**level, 2, strides=2)(x)
        x = layers.Add()([x, skips[level]])
        x = _conv_bn_relu(_conv_bn_relu(x, width * 2**level), width * 2**level)
    outputs = layers.Conv2DTranspose(maps, 2, strides=2, activation="sigmoid", name=output)(x)
    return keras.Model(inputs, outputs, name=f"unet_lite_w{width}_d{depth}")


def _pixel_shuffled_doubling(layer: "keras.layers.Conv2DTranspose") -> "keras.Model":
    """A 2x2/2 transposed convolution's map built pixel-shuffled, as a small model in its place.

    A 1x1 convolution for each output row parity, giving both columns' channels; the two laid
    side by side and reshaped put each value in its pixel. CONV_2D, CONCATENATION and RESHAPE,
    Edge TPU operators all: on a CPU they run as fast for one input as for a batch, where
    XNNPACK's TRANSPOSE_CONV picks a one-row kernel for a batch of one (about 3x slower on an
    AMX machine), and a batch of tiles takes about 0.86x the time (firmware_notes/ARTERY_VEIN.md,
    "Cost").
    """
    import keras
    from keras import layers

    from training.layers import BatchFreeReshape

    inputs = keras.Input(layer.input.shape[1:])
    rows = layers.Concatenate(axis=2)([layers.Conv2D(2 * layer.filters, 1)(inputs) for _ in "ab"])
    height, width = layer.input.shape[1:3]
    x = BatchFreeReshape((2 * height, 2 * width, layer.filters))(rows)  # rows: (h, 2w, 2 f)
    if layer.activation is not keras.activations.linear:
        x = layers.Activation(layer.activation)(x)
    return keras.Model(inputs, x, name=layer.name)


def _is_doubling(layer: "keras.layers.Layer") -> bool:
    """Whether ``layer`` is a 2x2 stride-2 transposed convolution that can be pixel-shuffled.

    Each input pixel gives its own 2x2 output pixels (no overlap, no padding); it has a bias,
    its channels last, and is called once, on inputs of a fixed size.
    """
    from keras import layers

    return (
        isinstance(layer, layers.Conv2DTranspose)
        and len(layer._inbound_nodes) == 1  # a layer shared at two sizes has no one shuffle
        and None not in layer.input.shape[1:3]
        and tuple(layer.kernel_size) == tuple(layer.strides) == (2, 2)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.output_padding is None
        and layer.use_bias
        and layer.data_format == "channels_last"
    )


def pixel_shuffled(model: "keras.Model") -> "keras.Model":
    """``model`` as the device runs it: the same map, exactly.

    Each of its own 2x2 stride-2 transposed convolutions (:func:`_is_doubling`) is built
    pixel-shuffled (:func:`_pixel_shuffled_doubling`), its weights carried over
    (:func:`_pixel_shuffle_weights`); the other layers, and any model nested in it, are copied as
    they are. Every registered architecture is converted whole.
    """
    import keras

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if _is_doubling(layer):
            return _pixel_shuffled_doubling(layer)
        return layer.__class__.from_config(layer.get_config())

    twin = keras.models.clone_model(model, clone_function=clone)
    twin.set_weights(_pixel_shuffle_weights(model))
    return twin


def _pixel_shuffle_weights(model: "keras.Model") -> list[np.ndarray]:
    """``model``'s weights for its :func:`pixel_shuffled` twin.

    A 2x2/2 transposed convolution's kernel (2, 2, out, in) gives output pixel (2i + a, 2j + b)
    ``kernel[a, b] @ x[i, j]``; row parity ``a``'s 1x1 convolution holds ``kernel[a, b]`` for
    ``b`` = 0, 1 side by side, each with the bias.
    """
    weights = []
    for layer in model.layers:
        if not _is_doubling(layer):
            weights += layer.get_weights()
            continue
        kernel, bias = layer.get_weights()
        for row in kernel:
            weights += [row.reshape(-1, row.shape[-1]).T[None, None], np.tile(bias, 2)]
    return weights


def build_model(
    arch: str, batch_size: int | None = None, width: int | None = None
) -> "keras.Model":
    """Build a registered architecture by name.

    ``width`` sets the size of the :attr:`~Architecture.sized` ones (``None``: the builder's
    default) and is ignored by the others.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"got architecture {arch!r}, expected one of {', '.join(ARCHITECTURES)}")
    entry = ARCHITECTURES[arch]
    if entry.sized and width is not None:
        return entry.build(batch_size, width=width)
    return entry.build(batch_size)


MAX_WIDTH = 64
"""Most channels the first level of a sized architecture may have (``train --width``)."""


def architecture_of(model: "keras.Model") -> tuple[str, int | None] | None:
    """The registered architecture, and width if sized, that builds ``model``, if one does.

    A build is ``model``'s when its layers are of the same kinds, with weights of the same
    shapes, in the same order. A sized architecture's width is its first level's channels: the
    filters of ``model``'s first convolution (at most :data:`MAX_WIDTH`).
    """
    from keras import layers

    convolutions = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    width = convolutions[0].filters if convolutions else None
    for entry in ARCHITECTURES.values():
        if entry.sized and not (width and width <= MAX_WIDTH):
            continue
        built = entry.build(width=width) if entry.sized else entry.build()
        if _layer_shapes(built) == _layer_shapes(model):
            return entry.name, width if entry.sized else None
    return None


def _layer_shapes(model: "keras.Model") -> list[tuple[str, list[tuple]]]:
    """Each layer's kind and the shapes of its weights, in order."""
    return [(type(x).__name__, [tuple(w.shape) for w in x.weights]) for x in model.layers]


def all_layers(model: "keras.Model") -> Iterator["keras.layers.Layer"]:
    """``model``'s layers, those of the models it nests included (:func:`pixel_shuffled`'s)."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from all_layers(layer)
        else:
            yield layer


def multiply_accumulates(model: "keras.Model") -> int:
    """Multiply-accumulates of one forward pass per patch, counted over the convolutions.

    The rest of the model is a rounding error. A transposed convolution costs its kernel once per
    input pixel.
    """
    total = 0
    for layer in all_layers(model):
        kind = type(layer).__name__
        if kind not in ("Conv2D", "Conv2DTranspose"):
            continue
        pixels_at = layer.input if kind == "Conv2DTranspose" else layer.output
        height, width = pixels_at.shape[1:3]
        total += int(np.prod(layer.kernel.shape)) * height * width
    return total
