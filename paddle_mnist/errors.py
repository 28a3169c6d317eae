"""The package's own exception types: the CLI turns them into one-line messages.

    python -m paddle_mnist prepare-data --check    # a DataError if the file is broken
"""


class PaddleMnistError(Exception):
    """An error the user can fix; the CLI prints it as one line and exits non-zero."""


class DataError(PaddleMnistError):
    """A data file that is missing pieces, corrupted, or of the wrong structure."""


class ConfigError(PaddleMnistError, ValueError):
    """An unknown key, a wrong type or an out-of-range value in a configuration."""


class RefusedFile(PaddleMnistError):
    """A weights or checkpoint file that names code (a planted payload): refused, and the command stops."""
