"""Real zip bombs for the import safety tests, built in a fraction of a second.

A bomb is the Annex A sample workbook with its xl/sharedStrings.xml replaced by a valid shared
strings part holding hundreds of MB of one repeated character. Compressing that much text with
zipfile takes seconds; instead one 8 MiB block is deflated once, ending on a full flush (so it
refers to nothing before it), and repeated: the result is a valid deflate stream with a real
CRC, which zipfile, openpyxl and unzip read as any other.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SAMPLE = Path(__file__).parent / "fixtures" / "annex_a" / "Annex_A.xlsx"
MB = 1024 * 1024
BLOCK = 8 * MB
SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
)
SST_TAIL = b"</t></si></sst>"
DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1  # 1 January 2024


def flushed(data: bytes, finish: bool = False) -> bytes:
    """A raw deflate piece that ends on a byte boundary and refers to nothing before it."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if finish else zlib.Z_FULL_FLUSH)


def repeated_member(unpacked_mb: int, char: bytes = b"A") -> tuple[bytes, int, int]:
    """(deflated bytes, CRC-32, unpacked size) of a shared strings part with `unpacked_mb` MB of `char`."""
    block = char * BLOCK
    blocks = unpacked_mb * MB // BLOCK
    stream = flushed(SST_HEAD) + flushed(block) * blocks + flushed(SST_TAIL, finish=True)
    crc = zlib.crc32(SST_HEAD)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(SST_TAIL, crc)
    return stream, crc, len(SST_HEAD) + blocks * BLOCK + len(SST_TAIL)


def write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of (name, deflated bytes, CRC-32, unpacked size) members, written field by field."""
    local, central = bytearray(), bytearray()
    for name, data, crc, size in members:
        raw = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, DOS_DATE, crc, len(data), size, len(raw), 0)
        local += raw + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, DOS_DATE, crc, len(data), size, len(raw), 0, 0, 0, 0,
            0, offset,
        )  # fmt: skip
        central += raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def workbook_bomb(path: Path, unpacked_mb: int = 400, source: Path = SAMPLE) -> Path:
    """`source` with its shared strings replaced by `unpacked_mb` MB of repeated text (every other part kept)."""
    import zipfile

    members = []
    with zipfile.ZipFile(source) as zf:
        for info in zf.infolist():
            if info.filename == "xl/sharedStrings.xml":
                members.append((info.filename, *repeated_member(unpacked_mb)))
            else:
                data = zf.read(info.filename)
                members.append((info.filename, flushed(data, finish=True), zlib.crc32(data), len(data)))
    return write_zip(path, members)
