"""What goes into the package: the packages, their data files and the host commands.

``pip wheel .`` builds the whole package (device runtime, training, converters). With
``EDGE_SEG_WHEEL=device`` it builds the camera's wheel: ``edge_runtime`` and its bundled model
only, without training, the converters, the Keras twin or their host commands
(firmware_notes/raspberry-pi.md).
"""

import os

from setuptools import find_namespace_packages, setup

DEVICE = os.environ.get("EDGE_SEG_WHEEL") == "device"
DEVICE_BUILD = "build/device"
"""The device build's own build and metadata folders: a full build's files (build/lib) and its
metadata (the host commands' entry points in the checkout's .egg-info) never mix with it."""

# Host subcommands register under this entry-point group; edge_runtime discovers them without
# importing training or converters until one is invoked (the dependency points one way).
HOST_COMMANDS = [
    "train = training.cli:train",
    "train-artery-vein = training.cli:train_artery_vein_command",
    "convert = converters.cli:convert",
    "convert-artery-vein = converters.cli:convert_artery_vein_command",
    "check = converters.cli:check",
    "embed-metadata = converters.cli:embed_metadata_command",
    "keygen = converters.cli:keygen",
    "sign = converters.cli:sign",
]

if DEVICE:
    os.makedirs(DEVICE_BUILD, exist_ok=True)

setup(
    options={"build": {"build_base": DEVICE_BUILD}, "egg_info": {"egg_base": DEVICE_BUILD}}
    if DEVICE
    else {},
    packages=find_namespace_packages(
        include=["edge_runtime*"] if DEVICE else ["edge_runtime*", "training*", "converters*"]
    ),
    package_data={
        "edge_runtime": ["models/*.tflite", "models/*.sig"],
        **({} if DEVICE else {"training": ["release/*.keras", "release/*.json"]}),
    },
    entry_points={
        "console_scripts": ["edge-seg = edge_runtime.cli.main:cli"],
        "edge_seg.commands": [] if DEVICE else HOST_COMMANDS,
    },
)
