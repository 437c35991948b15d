"""Errors whose messages are meant for people: what happened, and what to run next."""

from __future__ import annotations

import errno
import re

from qa.commands import Rebuild, rebuild_command


class QAError(Exception):
    """Base class: the message is shown to the user as is (CLI exit 1, gr.Error in the app)."""


class IngestError(QAError):
    """The input could not be read at all (nothing usable, or a path that does not exist)."""


class IndexProblem(QAError):
    """An index that cannot be used as it is; `repair` (when known) says what rebuilds it, and the
    message ends with that command. `reason` is the message without it."""

    def __init__(self, reason: str, repair: Rebuild | None = None) -> None:
        self.reason, self.repair = reason, repair
        if repair is not None:
            reason = f"{reason} {repair.lead}: {rebuild_command(repair)}"
        super().__init__(reason)


class IndexNotFound(IndexProblem):
    """No index at the given folder."""


class IndexMismatch(IndexProblem):
    """The index was built with another format, model or dimension than the settings ask for."""


class IndexOutdated(IndexMismatch):
    """The index was written by an older version of archive-qa, in a format this one does not read.
    `sources` are the paths its manifest says it indexed (to rebuild it from)."""

    def __init__(self, reason: str, repair: Rebuild | None = None) -> None:
        super().__init__(reason, repair)
        self.sources = list(repair.sources) if repair is not None else []


class IndexCorrupt(IndexProblem):
    """A file of the index is missing, truncated or damaged."""


class IndexLocked(QAError):
    """Another process is writing to this index."""


class BadQuestion(QAError):
    """The question is empty, too long, or otherwise unusable."""


class ConfigError(QAError):
    """A setting has a bad value or names something unknown."""


class DiskError(QAError):
    """A file or folder could not be written or read: the disk is full, read-only, or a path is wrong.
    `full`: the disk (or a quota) had no room left."""

    full = False


_FULL = "the disk is full (or the file too large): free some space, or put the index on another disk " \
        "with --index DIR, and run this again"
_ADVICE = {
    errno.ENOSPC: _FULL, errno.EFBIG: _FULL, errno.EDQUOT: _FULL,
    errno.EROFS: "it is on a read-only file system: choose a folder you can write to with --index DIR",
    errno.EACCES: "permission denied: let this user write there, or choose another folder with --index DIR",
    errno.EPERM: "permission denied: let this user write there, or choose another folder with --index DIR",
    errno.EEXIST: "a file is where a folder should be: --index must name a folder (or a new name)",
    errno.ENOTDIR: "a file is where a folder should be: --index must name a folder (or a new name)",
    errno.EISDIR: "it is a folder where a file was expected",
    errno.ENOENT: "it does not exist",
}


def os_advice(exc: BaseException) -> str:
    """What went wrong, in words, and what to do: `os_advice(OSError(errno.ENOSPC, 'No space'))` ->
    `'the disk is full (or the file too large): free some space, ...'`"""
    code = getattr(exc, "errno", None)
    text = (str(exc).strip().splitlines() or [""])[0]
    if code in _ADVICE:
        return _ADVICE[code]
    if "full" in text.lower() or "too large" in text.lower():
        return _FULL
    if re.fullmatch(r"\d+ requested and \d+ written", text):  # numpy's short write (np.save): no room left
        return _FULL
    if "disk i/o" in text.lower():  # SQLite's word for a write the file system refused (EFBIG included)
        return f"{_FULL} (SQLite: {text})"
    return f"{getattr(exc, 'strerror', None) or text or type(exc).__name__}"


def disk_full(exc: BaseException) -> bool:
    """Whether an error means there is no room left (ENOSPC, a quota, a file too large)."""
    return os_advice(exc).startswith(_FULL)


def describe_os_error(exc: BaseException, path: object = None, verb: str = "write") -> str:
    """One line for a failed read or write: the path and what to do.
    `describe_os_error(OSError(errno.EROFS, 'Read-only file system', '/ro/index'))`
    -> `'Cannot write /ro/index: it is on a read-only file system: choose a folder ...'`"""
    where = getattr(exc, "filename", None) or path
    if where is None:  # no path to name (a port in use, ...): what the system said
        return f"The operating system refused: {os_advice(exc)}."
    return f"Cannot {verb} {where}: {os_advice(exc)}."
