"""Per-frame image work: reduced-scale decode and resize (``process``), timestamp overlays and
watermarks (``overlay``), and the fonts they draw with (``fonts``).

Import the submodules directly; this package imports nothing on its own so that ``import
pylapse`` stays cheap.
"""
