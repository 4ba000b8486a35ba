"""Decode at reduced scale, orient, resize and encode real image files."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat, TiffImagePlugin

from pylapse.imaging import vips
from pylapse.imaging.process import (
    ImageError,
    Resize,
    ResizeMode,
    encode,
    exif_bytes_for,
    open_frame,
    output_format,
    resize_image,
    target_size,
)

EXIF_REAL = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "exif-real"


def _real(name: str) -> Path:
    path = EXIF_REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (shared test data lives beside the repo in ../shared)")
    return path


def _jpeg(path: Path, size: tuple[int, int], orientation: int | None = None) -> Path:
    """A JPEG whose top-left quarter is red and the rest blue, optionally EXIF-rotated."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def test_target_size_fit_keeps_aspect_and_never_enlarges():
    assert target_size((4000, 3000), Resize(1920, 1080)) == (1440, 1080)
    assert target_size((4000, 3000), Resize(width=1000)) == (1000, 750)
    assert target_size((4000, 3000), Resize(height=300)) == (400, 300)
    assert target_size((800, 600), Resize(1920, 1080)) == (800, 600)
    assert target_size((4000, 3000), Resize(1920, 1080, ResizeMode.EXACT)) == (1920, 1080)
    assert target_size((4000, 3000), None) == (4000, 3000)


def test_resize_modes_produce_their_sizes(tmp_path):
    image = open_frame(_jpeg(tmp_path / "a.jpg", (400, 300)))
    assert resize_image(image, Resize(200, 200)).size == (200, 150)
    assert resize_image(image, Resize(200, 200, ResizeMode.EXACT)).size == (200, 200)
    filled = resize_image(image, Resize(200, 100, ResizeMode.FILL))
    assert filled.size == (200, 100)
    # fill crops the centre: the left edge is half red (top) and half blue (bottom)
    assert filled.getpixel((2, 2))[0] > 200 and filled.getpixel((2, 97))[2] > 200


def test_resize_refuses_bad_values():
    with pytest.raises(ValueError, match="width must be a positive"):
        Resize(0, 100)
    with pytest.raises(ValueError, match="needs both width and height"):
        Resize(width=100, mode=ResizeMode.EXACT)


@pytest.fixture
def pillow_only(monkeypatch):
    """Decode through Pillow alone, as on a machine without libvips."""
    monkeypatch.setattr(vips, "decode_resized", lambda *args: None)


def _psnr(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size and a.mode == b.mode == "RGB"
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (a.width * a.height * 3)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def _lanczos_reference(path: Path, resize: Resize) -> Image.Image:
    """The frame decoded at full size, upright, resized with Pillow's LANCZOS: the best there is."""
    with Image.open(path) as src:
        full = ImageOps.exif_transpose(src).convert("RGB")
    return full.resize(target_size(full.size, resize), Image.Resampling.LANCZOS)


def test_large_jpeg_is_decoded_at_reduced_scale_when_downscaling(tmp_path, pillow_only):
    path = _jpeg(tmp_path / "big.jpg", (4000, 3000))
    # 1440x1080 is the final size; 1/2 scale (2000x1500) is the smallest that still covers it
    assert open_frame(path, Resize(1920, 1080)).size == (2000, 1500)
    assert open_frame(path, Resize(400, 300)).size == (500, 375)  # 1/8
    assert open_frame(path).size == (4000, 3000)  # no resize: full decode
    final = resize_image(open_frame(path, Resize(1920, 1080)), Resize(1920, 1080))
    assert final.size == (1440, 1080)
    assert final.getpixel((10, 10))[0] > 200 and final.getpixel((1400, 1000))[2] > 200


def test_exif_orientation_is_applied(tmp_path):
    # stored 300x400 with "rotate 90 CW" (6): upright it is 400x300 and red ends top-right
    image = open_frame(_jpeg(tmp_path / "r.jpg", (300, 400), orientation=6))
    assert image.size == (400, 300)
    assert image.getpixel((390, 10))[0] > 200
    assert image.getpixel((10, 10))[2] > 200


def test_with_libvips_a_shrunk_jpeg_comes_out_at_its_final_size(tmp_path):
    if not vips.available():
        pytest.skip("pyvips (with its libvips) is not installed")
    path = _jpeg(tmp_path / "big.jpg", (4000, 3000))
    image = open_frame(path, Resize(1920, 1080))
    assert image.size == (1440, 1080)  # decoded and resized in one pass
    assert resize_image(image, Resize(1920, 1080)) is image  # nothing left to do
    assert image.getpixel((10, 10))[0] > 200 and image.getpixel((1400, 1000))[2] > 200
    stretched = open_frame(path, Resize(1000, 1000, ResizeMode.EXACT))
    assert stretched.size == (1000, 1000)
    # fill crops after resizing; grey and CMYK JPEGs are converted: those go through Pillow
    assert open_frame(path, Resize(200, 100, ResizeMode.FILL)).size == (500, 375)  # 1/8
    Image.new("L", (800, 600), 128).save(tmp_path / "grey.jpg")
    assert open_frame(tmp_path / "grey.jpg", Resize(200, 200)).size == (200, 150)


def test_a_truncated_jpeg_being_shrunk_raises_image_error(tmp_path):
    path = _jpeg(tmp_path / "big.jpg", (2000, 1500))
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(ImageError, match=r"big\.jpg: cannot be decoded"):
        open_frame(path, Resize(640, 480)).load()


@pytest.mark.parametrize("backend", ["as installed", "pillow only"])
def test_a_shrunk_real_photo_matches_pillows_lanczos(request, backend):
    """Same size as Pillow's full-size LANCZOS resize and no visible difference (PSNR floor),
    on a real 4032x3024 phone photo, for a video box and a thumbnail, turned or not."""
    if backend == "pillow only":
        request.getfixturevalue("pillow_only")
    for name, resize in [
        ("samsung_g965w_subsec6.jpg", Resize(1920, 1080)),
        ("samsung_g965w_subsec6.jpg", Resize(width=320)),
        ("canon_sx_hdr_mn_tz+0100.jpg", Resize(1280, 720)),  # Orientation 6
        ("nokia_8.3_5g_offset+0300.jpg", Resize(1920, 1080, ResizeMode.EXACT)),
    ]:
        path = _real(name)
        reference = _lanczos_reference(path, resize)
        ours = resize_image(open_frame(path, resize), resize)
        assert ours.size == reference.size, name
        assert _psnr(ours, reference) >= 35.0, (name, resize)


def test_real_rotated_camera_frame_is_upright_and_drafted(pillow_only):
    path = _real("canon_sx_hdr_mn_tz+0100.jpg")  # stored 2048x1536, Orientation 6
    resize = Resize(width=400)
    image = open_frame(path, resize)
    assert image.size == (768, 1024)  # half-scale decode, turned upright (portrait)
    assert resize_image(image, resize).size == (400, 533)
    assert open_frame(_real("orientation_landscape_6.jpg")).size == (600, 450)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "not an image"),
        (lambda p: p.write_bytes(b"<html>503</html>"), "not an image"),
        (lambda p: None, "file not found"),
    ],
)
def test_unreadable_frames_raise_image_error_with_reason(tmp_path, make, reason):
    path = tmp_path / "bad.jpg"
    make(path)
    with pytest.raises(ImageError, match=reason) as info:
        open_frame(path)
    assert str(path) in str(info.value)


def test_truncated_jpeg_raises_image_error(tmp_path):
    good = _jpeg(tmp_path / "g.jpg", (640, 480))
    data = good.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cannot be decoded"):
        open_frame(cut, Resize(320, 240))


def test_real_undecodable_camera_file_raises_image_error():
    with pytest.raises(ImageError):
        open_frame(_real("beach_no_exif_bad_height.jpg"))


@pytest.mark.parametrize(("ext", "fmt"), [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_encode_writes_each_format(tmp_path, ext, fmt):
    image = open_frame(_jpeg(tmp_path / "s.jpg", (64, 48)))
    out = tmp_path / f"o.{ext}"
    encode(image, out, ext, quality=80)
    with Image.open(out) as written:
        assert written.format == fmt and written.size == (64, 48)


def test_jpeg_quality_and_optimize_change_the_file(tmp_path):
    image = Image.effect_noise((256, 256), 60).convert("RGB")
    sizes = {}
    for quality, optimize in ((95, False), (40, False), (40, True)):
        buffer = io.BytesIO()
        encode(image, buffer, "jpg", quality=quality, optimize=optimize)
        sizes[(quality, optimize)] = len(buffer.getvalue())
    assert sizes[(40, False)] < sizes[(95, False)]
    assert sizes[(40, True)] < sizes[(40, False)]


def test_bad_output_format_and_quality_are_refused():
    with pytest.raises(ValueError, match="accepted: jpg, png, webp"):
        output_format("gif")
    with pytest.raises(ValueError, match="quality must be 1-100"):
        encode(Image.new("RGB", (4, 4)), io.BytesIO(), "jpg", quality=0)


# --- HEIC and DNG (issue 14, item 8) ------------------------------------------------------------


def test_a_heic_frame_decodes_and_resizes() -> None:
    heic = _real("iphone11pro_offset-0400.heic")
    image = open_frame(heic, Resize(width=300))
    assert image.size == (3024, 4032) and image.mode == "RGB"
    assert resize_image(image, Resize(width=300)).size == (300, 400)
    assert image.getexif().get_ifd(0x8769)[0x9011] == "-04:00"  # its time goes with it
    assert open_frame(heic.read_bytes()).size == (3024, 4032)


def test_a_dng_frame_is_its_largest_embedded_preview_with_the_dngs_exif() -> None:
    dng = _real("nikon_z9_offset+0300.dng")
    with Image.open(dng) as plain:
        assert plain.size == (256, 171)  # what Pillow alone gives: the first IFD's thumbnail
    image = open_frame(dng)
    # the 640 px preview in the Nikon maker note; the raw itself is JPEG XL, which LibRaw lacks
    assert image.size == (640, 424) and image.mode == "RGB"
    exif = image.getexif()
    assert exif[0x0110] == "NIKON Z 9"
    assert exif.get_ifd(0x8769)[0x9003] == "2025:08:10 19:02:53"
    assert exif.get_ifd(0x8769)[0x9011] == "+03:00"
    data = exif_bytes_for(exif)  # small enough for a JPEG, with the time
    assert data is not None and len(data) < 65535
    out = io.BytesIO()
    encode(image, out, "jpg", exif=data)
    with Image.open(io.BytesIO(out.getvalue())) as written:
        assert written.getexif().get_ifd(0x8769)[0x9011] == "+03:00"
    assert open_frame(dng.read_bytes()).size == (640, 424)


def _fake_dng(*embedded: bytes) -> bytes:
    """A TIFF with a DNGVersion tag, a 64x48 blue first IFD and ``embedded`` bytes in a
    private tag, as cameras hide previews (and raw tiles) where Pillow does not look."""
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[50706] = b"\x01\x04\x00\x00"
    ifd.tagtype[50706] = 1  # BYTE
    ifd[50740] = b"".join(embedded) or b"\x00"
    ifd.tagtype[50740] = 7  # UNDEFINED
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 0, 255)).save(out, "TIFF", tiffinfo=ifd)
    return out.getvalue()


def _jpeg_bytes(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def test_a_dng_preview_is_the_largest_baseline_jpeg_and_raw_tiles_are_passed_over() -> None:
    # a lossless JPEG header (SOF3, 16 bits, 2 components) as raw tiles have: larger, not a picture
    tile = b"\xff\xd8\xff\xc3\x00\x0e\x10" + (2000).to_bytes(2, "big") + (3000).to_bytes(2, "big")
    dng = _fake_dng(tile + b"\x02" + bytes(6), _jpeg_bytes((320, 240), (0, 200, 0)),
                    _jpeg_bytes((160, 120), (200, 0, 0)))  # fmt: skip
    image = open_frame(dng)
    assert image.size == (320, 240)
    assert image.getpixel((5, 5))[1] > 150  # the green preview
    # no preview at all (and no raw decoder that can read it): the first IFD, not a crash
    bare = open_frame(_fake_dng())
    assert bare.size == (64, 48) and bare.getpixel((5, 5))[2] > 200
