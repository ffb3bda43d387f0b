"""What an import refuses, for the person importing to read."""


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why."""


class CellError(Exception):
    """A cell that cannot be the value of its field; the message says what to write instead."""
