"""The labelled sets the project reads: where each comes from, under what terms, and how its
publisher's archives become the layout that ``eval`` and ``train`` read
(:mod:`edge_runtime.data.photos`).

Sets with a public direct download are fetched (``edge-seg datasets fetch``); the others are
downloaded by hand from their publisher and unpacked from those archives (``edge-seg datasets
prepare``). No publisher gives a checksum for its archives, so none is recorded: what is unpacked
is checked instead (every file the layout expects, each photograph readable with its label).
Facts not confirmed from the publisher's own page are marked so.
"""

from dataclasses import dataclass
from typing import Literal

Access = Literal["direct", "manual", "private"]
"""``direct``: public archives at fixed addresses (``fetch``); ``manual``: downloaded by hand,
behind a registration or a web page (``prepare``); ``private``: not public."""

Conversion = Literal["copy", "ppm_gz_to_png", "vessels_from_av"]
"""How an archive member becomes a file of the layout: as it is; a gzip-compressed PPM/PGM
decompressed and saved as PNG (STARE); an artery/vein colour map turned into a vessel label
(255 wherever any channel is set: artery, vein or crossing)."""


@dataclass(frozen=True)
class Archive:
    """One of a publisher's archives: its file name, its download address (``None`` when it is
    downloaded by hand) and its SHA-256 (only where the publisher gives one)."""

    file: str
    url: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Member:
    """A rule that turns archive members into files of the layout: ``pattern`` (a regular
    expression) is searched in each member's path and ``target`` (a template with its groups,
    ``\\1``) names the file it becomes, converted by ``conversion``."""

    pattern: str
    target: str
    conversion: Conversion = "copy"


@dataclass(frozen=True)
class Dataset:
    """A labelled set: what it is, where it comes from, and how it is unpacked and checked
    (``files``: how many files each folder of the layout holds, ``"."`` its top); its camera's
    field of view in degrees across the field-of-view disc, by photograph size (``fields``:
    ``("WIDTHxHEIGHT", degrees)``, what gives its photographs' millimetres, ``--fov-degrees``;
    none where the publisher states none)."""

    name: str
    title: str
    origin: str
    homepage: str
    licence: str
    camera: str
    resolution: str
    photographs: int
    labels: str
    size: str
    access: Access
    layout: str | None = None
    archives: tuple[Archive, ...] = ()
    members: tuple[Member, ...] = ()
    files: tuple[tuple[str, int], ...] = ()
    fields: tuple[tuple[str, float], ...] = ()

    def field_degrees(self, size: tuple[int, int]) -> float | None:
        """The field of view in degrees of this set's photographs of ``size`` (width, height):
        ``None`` for a size ``fields`` does not name."""
        return dict(self.fields).get(f"{size[0]}x{size[1]}")

    def how_to_get(self) -> str:
        """One line: the command that gets this dataset, or why none does."""
        if self.access == "direct":
            return f"edge-seg datasets fetch {self.name} ({self.size}, public download)"
        if self.access == "manual":
            files = ", ".join(archive.file for archive in self.archives)
            return (
                f"download {files} from {self.homepage}, then: edge-seg datasets prepare "
                f"{self.name} ARCHIVE..."
            )
        return f"not public ({self.licence})"


_ANY = r"(?:^|/)"
"""Start of a pattern: the top of the archive or any folder, as publishers wrap their files in a
folder of their own or not."""

_STARE = "https://cecas.clemson.edu/~ahoover/stare/probing/"

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            name="drive",
            title="DRIVE: Digital Retinal Images for Vessel Extraction",
            origin="Staal et al., IEEE Trans. Med. Imaging 23(4), 2004; Image Sciences "
            "Institute, University Medical Center Utrecht",
            homepage="https://drive.grand-challenge.org/",
            licence="research use, under the terms accepted at registration",
            camera="Canon CR5 non-mydriatic 3CCD",
            resolution="565x584",
            photographs=20,
            labels="vessels (1st_manual), field-of-view masks, for the 20 training photographs; "
            "the challenge withholds the labels of its 20 test photographs (test.zip is not "
            "needed)",
            size="one zip archive, training.zip",
            access="manual",
            layout="drive",
            archives=(Archive("training.zip"),),
            members=(
                Member(_ANY + r"training/(images|1st_manual|mask)/([^/]+)$", r"training/\1/\2"),
            ),
            files=(("training/images", 20), ("training/1st_manual", 20), ("training/mask", 20)),
            fields=(("565x584", 45.0),),
        ),
        Dataset(
            name="stare",
            title="STARE: Structured Analysis of the Retina, vessel probing set",
            origin="Hoover et al., IEEE Trans. Med. Imaging 19(3), 2000; Clemson University",
            homepage=_STARE + "index.html",
            licence="none stated; free for research, citing Hoover et al. 2000 (unconfirmed)",
            camera="TopCon TRV-50",
            resolution="700x605",
            photographs=20,
            labels="vessels of two observers (labels-ah, Hoover; labels-vk, Kouznetsova); no "
            "field-of-view masks",
            size="three tar archives of gzip-compressed PPM files",
            access="direct",
            layout="stare",
            archives=(
                Archive("stare-images.tar", _STARE + "stare-images.tar"),
                Archive("labels-ah.tar", _STARE + "labels-ah.tar"),
                Archive("labels-vk.tar", _STARE + "labels-vk.tar"),
            ),
            members=(
                Member(_ANY + r"(im\d{4})\.ppm\.gz$", r"stare-images/\1.png", "ppm_gz_to_png"),
                Member(_ANY + r"(im\d{4})\.ah\.ppm\.gz$", r"labels-ah/\1.ah.png", "ppm_gz_to_png"),
                Member(_ANY + r"(im\d{4})\.vk\.ppm\.gz$", r"labels-vk/\1.vk.png", "ppm_gz_to_png"),
            ),
            files=(("stare-images", 20), ("labels-ah", 20), ("labels-vk", 20)),
            fields=(("700x605", 35.0),),
        ),
        Dataset(
            name="chase",
            title="CHASE_DB1: Child Heart and Health Study in England",
            origin="Fraz et al., IEEE Trans. Biomed. Eng. 59(9), 2012; Kingston University "
            "with St George's, University of London",
            homepage="https://researchinnovation.kingston.ac.uk/en/datasets/"
            "chasedb1-retinal-vessel-reference-dataset-4/",
            licence="CC BY 4.0",
            camera="Nidek NM-200-D, hand-held (both eyes of 14 children)",
            resolution="999x960",
            photographs=28,
            labels="vessels of two observers (_1stHO, _2ndHO); no field-of-view masks",
            size="one zip archive of 84 files",
            access="direct",
            layout="chase",
            archives=(
                Archive(
                    "CHASEDB1.zip",
                    "https://researchinnovation.kingston.ac.uk/files/40659508/CHASEDB1.zip",
                ),
            ),
            members=(Member(_ANY + r"(Image_\d{2}[LR](?:\.jpg|_1stHO\.png|_2ndHO\.png))$", r"\1"),),
            files=((".", 84),),
            fields=(("999x960", 30.0),),
        ),
        Dataset(
            name="hrf",
            title="HRF: High-Resolution Fundus image database",
            origin="Budai et al., Int. J. Biomed. Imaging, 2013; Pattern Recognition Lab, "
            "FAU Erlangen-Nürnberg, with Brno University of Technology",
            homepage="https://www5.cs.fau.de/research/data/fundus-images/",
            licence="free for research, citing Budai et al. 2013 (unconfirmed)",
            camera="Canon CR-1 with a Canon EOS 20D",
            resolution="3504x2336",
            photographs=45,
            labels="vessels (manual1), field-of-view masks; 15 healthy, 15 glaucomatous, 15 "
            "diabetic retinopathy",
            size="one zip archive, about 73 MB",
            access="direct",
            layout="hrf",
            archives=(
                Archive(
                    "all.zip",
                    "https://www5.cs.fau.de/fileadmin/research/datasets/fundus-images/all.zip",
                ),
            ),
            members=(Member(_ANY + r"(images|manual1|mask)/([^/]+)$", r"\1/\2"),),
            files=(("images", 45), ("manual1", 45), ("mask", 45)),
            fields=(("3504x2336", 45.0),),
        ),
        Dataset(
            name="les-av",
            title="LES-AV: Leuven Eye Study artery/vein set",
            origin="Orlando et al., MICCAI 2018; KU Leuven",
            homepage="https://figshare.com/articles/dataset/LES-AV_dataset/11857698",
            licence="as stated on the figshare record (not confirmed here)",
            camera="fundus camera of the Leuven Eye Study (model not confirmed here)",
            resolution="1620x1444 (one 2196x1958)",
            photographs=22,
            labels="vessels, artery/vein colour maps (labels-av), field-of-view masks",
            size="one zip archive, LES-AV.zip",
            access="manual",
            layout="generic",
            archives=(Archive("LES-AV.zip"),),
            members=(
                Member(_ANY + r"LES-AV/images/([^/]+)$", r"images/\1"),
                Member(_ANY + r"LES-AV/masks/([^/]+)$", r"masks/\1"),
                Member(_ANY + r"LES-AV/vessel-segmentations/([^/]+)$", r"labels/\1"),
                Member(_ANY + r"LES-AV/arteries-and-veins/([^/]+)$", r"labels-av/\1"),
            ),
            files=(("images", 22), ("masks", 22), ("labels", 22), ("labels-av", 22)),
            # the 30° ones by their discs' size too: about 0.21 of the field across, 0.14 in
            # the 45° one (1.8 mm over 30 or 45 x 0.288 mm)
            fields=(("1620x1444", 30.0), ("2196x1958", 45.0)),
        ),
        Dataset(
            name="gave",
            title="GAVE: Generalized Analysis of Vessels in Eye (MICCAI 2025 challenge)",
            origin="the GAVE challenge, OMIA workshop at MICCAI 2025",
            homepage="https://aistudio.baidu.com/competition/detail/1315",
            licence="the challenge's terms, accepted at registration",
            camera="colour fundus camera",
            resolution="1536x1024",
            photographs=50,
            labels="artery/vein colour maps (red artery, blue vein, green crossing; vessels are "
            "their union), field-of-view masks",
            size="the challenge's training archive",
            access="manual",
            layout="generic",
            archives=(Archive("the challenge's training archive"),),
            members=(
                Member(_ANY + r"training/images/([^/]+)$", r"images/\1"),
                Member(_ANY + r"training/masks/([^/]+)$", r"masks/\1"),
                Member(_ANY + r"training/av/([^/]+)$", r"labels-av/\1"),
                Member(
                    _ANY + r"training/av/([^/.]+)\.[^/.]+$", r"labels/\1.png", "vessels_from_av"
                ),
            ),
            files=(("images", 50), ("masks", 50), ("labels", 50), ("labels-av", 50)),
        ),
        Dataset(
            name="reference-patches",
            title="the reference 64x64 patch sets (retinal_vessel_dev.npz, sample_data.npz)",
            origin="the public notebook project 'Retina Images Processing', tiles of DRIVE "
            "photographs",
            homepage="(none)",
            licence="the project's own copy, not redistributed",
            camera="Canon CR5 (DRIVE)",
            resolution="64x64 patches",
            photographs=0,
            labels="vessels per patch",
            size="a few MB",
            access="private",
        ),
    )
}
"""Every set the project reads, by name."""
