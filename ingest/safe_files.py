"""Checks on an uploaded workbook (a zip) or Parquet file made before anything unpacks it.

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

A Parquet file (an SSD table) is checked the same way from its footer (`check_parquet`): the
unpacked size its row groups declare, each column chunk's packing ratio, and its rows times
columns (dictionary encoding can pack a million repeats of a value into a few bytes, so every
value is counted as at least `BYTES_PER_VALUE` once read).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.report import SourceError

MB = 1024 * 1024
RATIO_FLOOR_BYTES = 1 * MB  # the ratio is only checked on members that unpack to more than this
MAX_MEMBERS = 10_000
SAFE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
BYTES_PER_VALUE = 8  # the least one value of a Parquet file takes once read


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


def check_parquet(path: str | Path, max_uncompressed_mb: float | None = None, max_ratio: float | None = None) -> None:
    """Raise UnsafeFileError if the Parquet file at `path` would unpack to more than the limits allow.

    A file whose footer cannot be read is left to the reader, which says it is not Parquet.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    limit_mb = _limit("max_uncompressed_mb") if max_uncompressed_mb is None else max_uncompressed_mb
    ratio = _limit("max_compression_ratio") if max_ratio is None else max_ratio
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # noqa: BLE001 - not Parquet (pyarrow raises several types): the reader says so
        return
    declared = values = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        declared += group.total_byte_size
        values += group.num_rows * group.num_columns
        for c in range(group.num_columns):
            chunk = group.column(c)
            unpacked, packed = chunk.total_uncompressed_size, max(chunk.total_compressed_size, 1)
            if unpacked > RATIO_FLOOR_BYTES and unpacked > ratio * packed:
                raise UnsafeFileError(
                    f"{path.name} was refused for safety: its column {chunk.path_in_schema} unpacks to "
                    f"{unpacked / packed:,.0f} times its packed size, more than the {ratio:g} times allowed "
                    "(setting max_compression_ratio). Nothing was imported."
                )
    size = max(declared, values * BYTES_PER_VALUE)
    if size > limit_mb * MB:
        raise UnsafeFileError(
            f"{path.name} was refused for safety: its {meta.num_rows:,} rows would unpack to at least "
            f"{size / MB:,.0f} MB, more than the {limit_mb:g} MB an import may unpack (setting "
            "max_uncompressed_mb). Nothing was imported."
        )
