"""Limits on what a user hands in, so that no file can take a shared server's memory or time.

Each limit is a setting: an environment variable with a default, read when it is used (so a host
changes it without touching code, and a test with `monkeypatch.setenv`). Every message that enforces
a limit names its variable, so the user (or the host) knows which knob it is. The README's "Hosting
FitLab for a class" lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


class LimitError(ValueError):
    """A setting that is not a positive whole number."""


@dataclass(frozen=True)
class Limit:
    env: str  # the environment variable that sets it
    default: int
    unit: str  # "MB", "rows", "columns", ...
    what: str  # what it bounds, for messages and the README

    def value(self) -> int:
        text = os.environ.get(self.env, "").strip()
        if not text:
            return self.default
        try:
            number = int(text.replace("_", ""))
        except ValueError:
            raise LimitError(f"{self.env} must be a whole number of {self.unit}, got {text!r}") from None
        if number < 1:
            raise LimitError(f"{self.env} must be at least 1, got {number}")
        return number

    def bytes(self) -> int:
        """The limit in bytes, for limits given in MB."""
        assert self.unit == "MB", self.env
        return self.value() * 1_000_000

    def named(self) -> str:
        """How a message names it: "200 MB (FITLAB_MAX_FILE_MB)"."""
        return f"{self.value():,} {self.unit} ({self.env})"


# The web page's own upload limit is Streamlit's server.maxUploadSize (.streamlit/config.toml, 50 MB);
# these bound the work once a file is in, on the page and in the CLI alike.
FILE_MB = Limit("FITLAB_MAX_FILE_MB", 200, "MB", "bytes read from one CSV or log file (the CLI reads files from disk)")
CSV_COLUMNS = Limit("FITLAB_MAX_CSV_COLUMNS", 1_000, "columns", "columns of a CSV dataset")
CSV_ROWS = Limit("FITLAB_MAX_CSV_ROWS", 500_000, "rows", "rows of a CSV dataset read; past it a seeded random sample is read")
LOG_COLUMNS = Limit("FITLAB_MAX_LOG_COLUMNS", 500, "columns", "columns of a training log")
LOG_EPOCHS = Limit(
    "FITLAB_MAX_LOG_EPOCHS", 20_000, "epochs", "epochs of a training log read; past it evenly spaced epochs are read"
)
ARCHIVE_PEEK_BYTES = 4_096  # what the file-type check reads from inside a ZIP (an Office document's `mimetype`)

ALL = (FILE_MB, CSV_COLUMNS, CSV_ROWS, LOG_COLUMNS, LOG_EPOCHS)
