from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Collected files with hashed names and gzip copies, linked by their hashed names even
    with DEBUG on (Django links the plain names then): the embedded default runs with DEBUG
    and serves static files with a year's caching, safe only when a changed file is renamed."""

    def url(self, name, force=False):
        return super().url(name, force=True)
