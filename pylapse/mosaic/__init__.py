"""Mosaics: many frames tiled into one output frame, and those frames made into a video.

One engine for the products of issue 19: :mod:`~pylapse.mosaic.layout` (tile rectangles for N
inputs), :mod:`~pylapse.mosaic.timeline` (which frame each tile shows at each output instant,
on UTC, vectorised), :mod:`~pylapse.mosaic.compose` (one output frame: reduced decode, band,
scale, dim, labels in local time), :mod:`~pylapse.mosaic.sequence` (the plan and every frame
written for the video runner); the products are :mod:`~pylapse.mosaic.grid` (cameras side by
side), :mod:`~pylapse.mosaic.sunset` (a grid of days around their sunset) and the photomosaic:
:mod:`~pylapse.mosaic.tilecache` (each frame's tile vector, cached and refreshed incrementally),
:mod:`~pylapse.mosaic.search` (exact nearest-tile index: clusters and triangle-inequality
bounds) and :mod:`~pylapse.mosaic.photo` (nearest tiles with a repeat limit, opacity blend). The
wing works on frame times and paths handed in; :mod:`pylapse.tasks.mosaic` reads collections and
encodes.
"""
