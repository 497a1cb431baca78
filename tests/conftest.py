import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from tests.tiny_artifact import build_tiny_artifact


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_artifact(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def detector(tiny_model_dir):
    from detector import Detector

    return Detector.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("img") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(p)
    return p


@pytest.fixture(scope="session")
def no_face_png(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("img") / "noface.png"
    Image.fromarray(data.coffee()).save(p)
    return p


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with almost no pixel data (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def jpeg_bytes(rgb: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", **kw)
    return buf.getvalue()


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    """The bad inputs every entry point must refuse clearly: text-as-jpg, truncated JPEG, PNG bomb header."""
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image\n")
    full = jpeg_bytes(data.astronaut(), quality=90)
    trunc = tmp_path / "truncated.jpg"
    trunc.write_bytes(full[: len(full) // 3])
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(30000, 30000))
    return {"text": text, "truncated": trunc, "bomb": bomb}
