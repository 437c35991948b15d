"""Errors whose messages are meant for people: what happened, and what to run next."""


class QAError(Exception):
    """Base class: the message is shown to the user as is (CLI exit 1, gr.Error in the app)."""


class IngestError(QAError):
    """The input could not be read at all (nothing usable, or a path that does not exist)."""


class IndexNotFound(QAError):
    """No index at the given folder."""


class IndexMismatch(QAError):
    """The index was built with another format, model or dimension than the settings ask for."""


class IndexOutdated(IndexMismatch):
    """The index was written by an older version of archive-qa, in a format this one does not read.
    `sources` are the paths its manifest says it indexed (to rebuild it from)."""

    def __init__(self, message: str, sources: list[str] | None = None) -> None:
        super().__init__(message)
        self.sources = sources or []


class IndexCorrupt(QAError):
    """A file of the index is missing, truncated or damaged."""


class IndexLocked(QAError):
    """Another process is writing to this index."""


class BadQuestion(QAError):
    """The question is empty, too long, or otherwise unusable."""


class ConfigError(QAError):
    """A setting has a bad value or names something unknown."""
