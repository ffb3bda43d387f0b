"""Uploads stay in memory. The only files users send are client lists (names, NIKs, HIV
dates): Django would spool any upload over FILE_UPLOAD_MAX_MEMORY_SIZE to an unencrypted
temporary file, which outlives a killed worker. Here a request whose body is over that size
keeps no file at all, and says so, so that the form can answer "too large" instead."""

from django.core.files.uploadhandler import MemoryFileUploadHandler


class MemoryOnlyUploadHandler(MemoryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        super().handle_raw_input(input_data, META, content_length, boundary, encoding)
        if not self.activated and self.request is not None:
            self.request.upload_too_large = True


def upload_too_large(request) -> bool:
    return getattr(request, "upload_too_large", False)
