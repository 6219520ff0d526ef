"""The request class: uploaded files are kept only up to the size we accept.

A photo larger than MAX_UPLOAD_BYTES is cut just past that size while the request is
read (the rest is read and dropped, never stored), so the whole form still arrives: the
upload checks refuse the photo on the form, with everything typed kept, instead of the
request failing with a bare 413. MAX_CONTENT_LENGTH stays the hard limit of a request.
"""

import tempfile

from flask import Request, current_app


class CappedFile:
    """A writable temporary file that keeps the first `cap` bytes and counts the rest."""

    def __init__(self, cap: int):
        self._file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        self._room = cap

    def write(self, data) -> int:
        kept = data[:max(self._room, 0)]
        if kept:
            self._file.write(kept)
            self._room -= len(kept)
        return len(data)

    def __getattr__(self, name):  # read, seek, tell, close ... of the kept bytes
        return getattr(self._file, name)

    def __iter__(self):
        return iter(self._file)


class PifaRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return CappedFile(current_app.config["MAX_UPLOAD_BYTES"] + 1)
