"""Readers of the metadata containers frames carry, straight from their bytes: TIFF image file
directories (:mod:`~pylapse.metadata.tiff`), ISO-BMFF boxes of HEIF files
(:mod:`~pylapse.metadata.bmff`) and XMP packets (:mod:`~pylapse.metadata.xmp`), and the UTC
offset a photo's GPS block implies (:mod:`~pylapse.metadata.gps`).

They import nothing of pylapse; :mod:`pylapse.exif`, :mod:`pylapse.makernote` and
:mod:`pylapse.filetime` build the capture time out of what they read. Import the modules
themselves (``from pylapse.metadata import tiff``): this face re-exports nothing.
"""
