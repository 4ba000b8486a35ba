"""Reading ffmpeg's error output (pure): the lines below are ffmpeg 7-8's own wording."""

from __future__ import annotations

from pylapse.video.errors import decode_error_positions, fix_for, key_line, named_paths

STOPPED = """\
[in#0/concat @ 0x559e4e0979c0] Impossible to open '/frames/cam-12-00.jpg'
[in#0/concat @ 0x559e4e097680] Error during demuxing: No such file or directory
"""
DECODE = """\
[mjpeg @ 0x5556e5bcd680] huffman table decode error
[vist#0:0/mjpeg @ 0x5556e5bbd1c0] [dec:mjpeg @ 0x5556e5bccac0] Error submitting packet to \
decoder: Invalid data found when processing input
[vist#0:0/mjpeg @ 0x5556e5bbd1c0] [dec:mjpeg @ 0x5556e5bccac0] Task finished with error code: \
-1094995529 (Invalid data found when processing input)
"""
FILTER = """\
[Parsed_crop_0 @ 0x7fa43002e900] Invalid too big or non positive size for width '0' or height '0'
[vf#0:0 @ 0x55e212526c00] Error reinitializing filters!
"""


def test_named_paths_are_only_frames_of_the_render() -> None:
    known = {"/frames/cam-12-00.jpg", "/frames/cam-12-10.jpg"}
    assert named_paths(STOPPED.splitlines(), known) == ["/frames/cam-12-00.jpg"]
    assert named_paths(FILTER.splitlines(), known) == []  # '0' is no frame


def test_positions_of_decode_errors() -> None:
    marks = [(0, "[mjpeg @ 0x1] huffman table decode error"), (12, "x264 [info]: nothing"),
             (40, "Error submitting packet to decoder: Invalid data found"),
             (40, "Impossible to open '/a.jpg'")]  # fmt: skip
    assert decode_error_positions(marks) == [0, 40]


def test_key_line_skips_thread_housekeeping_and_tags() -> None:
    assert key_line(STOPPED) == "Impossible to open '/frames/cam-12-00.jpg'"
    assert key_line(DECODE) == "huffman table decode error"
    assert key_line("") == "no error output"


def test_each_kind_of_failure_gets_its_advice() -> None:
    assert "moved or deleted" in fix_for(STOPPED)
    assert "damaged" in fix_for(DECODE)
    assert "other sizes skipped" in fix_for(FILTER)
    assert "free space" in fix_for("av_interleaved_write_frame(): No space left on device")
    assert "another codec" in fix_for("something new")
