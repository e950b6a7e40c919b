"""Checks on an uploaded workbook (a zip) made before anything unpacks it.

An .xlsx is a zip of XML parts. A few hundred KB can hold hundreds of MB of XML that compress
almost to nothing (a "zip bomb"), and openpyxl would unpack and hold all of it. `check_zip`
reads only the zip's central directory (the list of members with their sizes, a few KB) and
refuses the file, with an `UnsafeFileError` naming the file and the limit, when:

- it is not a zip at all;
- its members would unpack to more than `max_uncompressed_mb` in total (settings `[imports]`);
- one member larger than `RATIO_FLOOR_BYTES` unpacks to more than `max_compression_ratio` times
  its compressed size (small parts are left alone: a tiny part can compress 200 times);
- a member is compressed with anything but deflate or stored (the only methods Excel uses;
  bzip2 and LZMA would unpack without a bound on each read);
- it has more than `MAX_MEMBERS` members (a workbook has dozens).

The sizes in the central directory are what the file declares, and Python's zipfile (which
openpyxl reads with) never unpacks a member past its declared size and checks its CRC, so a
file that lies about a size fails to open rather than unpacking more.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.report import SourceError

MB = 1024 * 1024
RATIO_FLOOR_BYTES = 1 * MB  # the ratio is only checked on members that unpack to more than this
MAX_MEMBERS = 10_000
SAFE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


_given: dict[str, float] = {}  # limits set by `use_limits` (the Import page's child), else the settings


class UnsafeFileError(SourceError):
    """A file refused for safety before it was opened; the message names the file and the limit."""


def use_limits(max_uncompressed_mb: float, max_compression_ratio: float) -> None:
    """Use these limits instead of reading the settings (the Import page's child: its parent read them)."""
    _given.update(max_uncompressed_mb=max_uncompressed_mb, max_compression_ratio=max_compression_ratio)


def _limit(key: str) -> float:
    if key in _given:
        return _given[key]
    from queries.settings import setting  # only here: importing queries loads the statistics libraries

    return setting(key)


def check_zip(path: str | Path, max_uncompressed_mb: float | None = None, max_ratio: float | None = None) -> None:
    """Raise UnsafeFileError if the zip (an .xlsx) at `path` could unpack to more than the limits allow."""
    path = Path(path)
    limit_mb = _limit("max_uncompressed_mb") if max_uncompressed_mb is None else max_uncompressed_mb
    ratio = _limit("max_compression_ratio") if max_ratio is None else max_ratio
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UnsafeFileError(
            f"{path.name} is not an Excel workbook (.xlsx): an .xlsx is a zip file, and this is not one. "
            "Nothing was imported."
        ) from None
    if len(members) > MAX_MEMBERS:
        raise UnsafeFileError(
            f"{path.name} was refused for safety: it holds {len(members):,} parts, and a workbook has at most "
            f"{MAX_MEMBERS:,}. Nothing was imported."
        )
    for member in members:
        if member.compress_type not in SAFE_METHODS:
            raise UnsafeFileError(
                f"{path.name} was refused for safety: its part {member.filename} is compressed in a way Excel "
                "never uses. Open the workbook in Excel and save it again as .xlsx. Nothing was imported."
            )
    total = sum(m.file_size for m in members)
    if total > limit_mb * MB:
        raise UnsafeFileError(
            f"{path.name} was refused for safety: it would unpack to {total / MB:,.0f} MB, more than the "
            f"{limit_mb:g} MB an import may unpack (setting max_uncompressed_mb). Nothing was imported."
        )
    for member in members:
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > ratio * max(member.compress_size, 1):
            times = member.file_size / max(member.compress_size, 1)
            raise UnsafeFileError(
                f"{path.name} was refused for safety: its part {member.filename} unpacks to {times:,.0f} times "
                f"its packed size, more than the {ratio:g} times allowed (setting max_compression_ratio), as a "
                "file built to exhaust memory does. Nothing was imported."
            )
