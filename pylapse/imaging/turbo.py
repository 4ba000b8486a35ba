"""A JPEG decoded to its YCbCr planes by the system's libturbojpeg, where it is installed.

Neither Pillow nor simplejpeg hands out a JPEG's planes as stored (Pillow's "YCbCr" decode is
upsampled and interleaved), and only libjpeg-turbo's TurboJPEG API does
(``tjDecompressToYUVPlanes``). The library is called here through ctypes: five functions of its
stable API (TurboJPEG 2.0 and later, kept in 3.x), found by its soname or else by
``ctypes.util.find_library`` (the Debian/Ubuntu package ``libturbojpeg0``, Fedora's
``turbojpeg``, Homebrew's ``jpeg-turbo``). Without it :func:`decode_planes` returns None and
callers decode another way.

Any warning libjpeg reports (corrupt or truncated data) stops the decode and counts as a
failure (``TJFLAG_STOPONWARNING``), so such frames go the way that words their errors.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

__all__ = ["available", "decode_planes"]

_TJSAMP_420 = 2
_TJFLAG_STOPONWARNING = 8192
_TJCS_YCBCR = 1

_lock = threading.Lock()
_state: list[Any] = []  # [the loaded library, or None], once tried


def _library() -> Any:
    with _lock:
        if not _state:
            _state.append(_load())
        return _state[0]


def _open() -> Any:
    # the soname first: dlopen finds it in a few microseconds, where find_library runs
    # ldconfig in a subprocess (~10 ms, in every export worker)
    try:
        return ctypes.CDLL("libturbojpeg.so.0")
    except OSError:
        name = ctypes.util.find_library("turbojpeg")
        return None if name is None else ctypes.CDLL(name)


def _load() -> Any:
    try:
        lib = _open()
        if lib is None:
            return None
        lib.tjInitDecompress.restype = ctypes.c_void_p
        lib.tjInitDecompress.argtypes = []
        lib.tjDecompressHeader3.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            *[ctypes.POINTER(ctypes.c_int)] * 4,
        ]
        lib.tjDecompressToYUVPlanes.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.tjDestroy.argtypes = [ctypes.c_void_p]
        lib.tjDestroy.restype = ctypes.c_int
    except (OSError, AttributeError):  # not loadable, or older than TurboJPEG 1.4
        return None
    return lib


def available() -> bool:
    """Whether JPEGs can be decoded to planes in this process."""
    return _library() is not None


def decode_planes(data: bytes, size: tuple[int, int]) -> tuple[Any, Any, Any] | None:
    """The Y, Cb and Cr planes (C-contiguous uint8 arrays: height x width, and half that each
    way) of ``data``, a 4:2:0 YCbCr JPEG of ``size`` (even both ways); None when the library
    is missing, the JPEG is anything else, or libjpeg reports any error or warning."""
    lib = _library()
    if lib is None:
        return None
    # a decompressor for this call (~4 us to make): a handle must not be shared by threads
    handle = lib.tjInitDecompress()
    if not handle:
        return None
    try:
        return _decode(lib, handle, data, size)
    finally:
        lib.tjDestroy(handle)


def _decode(
    lib: Any, handle: int, data: bytes, size: tuple[int, int]
) -> tuple[Any, Any, Any] | None:
    import numpy as np  # imported when first needed (simplejpeg, beside which this runs, has it)

    width, height, sampling, colorspace = (ctypes.c_int() for _ in range(4))
    status = lib.tjDecompressHeader3(
        handle,
        data,
        len(data),
        ctypes.byref(width),
        ctypes.byref(height),
        ctypes.byref(sampling),
        ctypes.byref(colorspace),
    )
    if (
        status != 0
        or (width.value, height.value) != size
        or size[0] % 2
        or size[1] % 2
        or sampling.value != _TJSAMP_420
        or colorspace.value != _TJCS_YCBCR
    ):
        # odd sizes are left out: libturbojpeg 2.1 writes a row past the Y plane of an odd
        # height (measured), and what it does with an odd width is not written down
        return None
    half = (size[0] // 2, size[1] // 2)
    planes = (
        # a spare row under Y all the same, in case another version pads it
        np.empty((size[1] + 1, size[0]), np.uint8)[: size[1]],
        np.empty((half[1], half[0]), np.uint8),
        np.empty((half[1], half[0]), np.uint8),
    )
    pointers = (ctypes.c_void_p * 3)(*(p.ctypes.data for p in planes))
    strides = (ctypes.c_int * 3)(size[0], half[0], half[0])
    status = lib.tjDecompressToYUVPlanes(
        handle, data, len(data), pointers, size[0], strides, size[1], _TJFLAG_STOPONWARNING
    )
    return planes if status == 0 else None
