"""Sizes checked before a CSV file is parsed: the file, each cell, and quotes that never close.

The parser holds the whole file and each cell in memory; a cell of hundreds
of megabytes (or a quote that is never closed, which makes the rest of the
file one cell) would take gigabytes, or stop Polars with a panic. So the raw
bytes are scanned first, a few megabytes at a time, with vectorized NumPy
steps: the CSV quoting rules say where each cell ends (a double quote
toggles "inside a quoted value"; a comma or a line end outside quotes ends
a cell, a line end outside quotes ends a row), which is all it takes to
measure every cell and number every row as the importer does (the header
is row 1). Nothing is held beyond one block of the file.

- ``CSV_IMPORT_MAX_CELL_KB`` (64 KB): a longer cell is refused, naming its
  row and column;
- ``CSV_IMPORT_MAX_FILE_MB`` (1 GB): a larger file is refused, naming the
  row where it passes the limit;
- a double quote still open at the end of the file is refused, naming the
  row and column where it opened.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from connectors.csv_import.cells import CsvImportError
from data.settings import byte_limit

CELL_SETTING = "CSV_IMPORT_MAX_CELL_KB"
FILE_SETTING = "CSV_IMPORT_MAX_FILE_MB"
BLOCK = 8 * 1024 * 1024
QUOTE, COMMA, NEWLINE = 34, 44, 10


def shown_size(size: int) -> str:
    """Bytes as the settings count them: "64 KB", "5 MB", "1.5 GB"."""
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:,.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


class _Scan:
    """Where the scan stands after the blocks fed so far."""

    def __init__(self, cell_limit: int) -> None:
        self.cell_limit = cell_limit
        self.inside = 0  # 1 while inside a quoted value
        self.row = 1  # the row the next byte belongs to
        self.column = 0  # the index of the cell the next byte belongs to
        self.run = 0  # bytes of the current cell so far
        self.open_at: tuple[int, int] | None = None  # (row, column) of the quote that opened the value we are in
        self.header = b""
        self.header_done = False

    def feed(self, block: bytes) -> tuple[int, int, bool] | None:
        """Scan ``block``; (row, column, inside quotes) of the first cell past the limit, else None."""
        base = len(self.header)
        if not self.header_done:
            self.header += block[:max(0, 1024 * 1024 - base)]
        a = np.frombuffer(block, dtype=np.uint8)
        is_quote = a == QUOTE
        quotes = np.nonzero(is_quote)[0]
        ends = np.nonzero((a == COMMA) | (a == NEWLINE))[0]
        if quotes.size:  # a comma or line end is a cell's end when an even number of quotes precede it
            parity = np.cumsum(is_quote, dtype=np.uint8)  # counts wrap at 256: the parity stays right
            ends = ends[((parity[ends] + np.uint8(self.inside)) & 1) == 0]
        elif self.inside:
            ends = ends[:0]
        newline = a[ends] == NEWLINE
        if not self.header_done and newline.any():  # the first line end outside quotes closes the header
            self.header = self.header[:base + int(ends[np.flatnonzero(newline)[0]])]
            self.header_done = True
        if ends.size:
            starts = np.empty_like(ends)
            starts[0] = -self.run
            starts[1:] = ends[:-1] + 1
            too_long = np.flatnonzero(ends - starts > self.cell_limit)
            if too_long.size:
                return (*self._where(ends, newline, int(too_long[0])), False)
        # The quotes after which we are inside a value (the 1st, 3rd, ... of the block when outside at its start).
        opening = quotes[(np.arange(1, quotes.size + 1) + self.inside) & 1 == 1]
        if opening.size:
            self.open_at = self._where(ends, newline, int(np.searchsorted(ends, opening[-1])))
        if ends.size:
            self.run = len(a) - int(ends[-1]) - 1
            lines = int(np.count_nonzero(newline))
            if lines:
                self.row += lines
                self.column = int(ends.size - 1 - np.flatnonzero(newline)[-1])
            else:
                self.column += int(ends.size)
        else:
            self.run += len(a)
        self.inside = (self.inside + int(quotes.size)) & 1
        if self.run > self.cell_limit:
            return self.row, self.column, bool(self.inside)
        return None

    def _where(self, ends: np.ndarray, newline: np.ndarray, index: int) -> tuple[int, int]:
        """(row, column) of the cell that ends at ``ends[index]`` (or, past the last end, of the open one)."""
        lines = np.flatnonzero(newline[:index])
        if lines.size:
            return self.row + int(lines.size), index - int(lines[-1]) - 1
        return self.row, self.column + index

    def column_name(self, index: int) -> str:
        text = self.header.decode("utf-8-sig", errors="replace")
        names = next(csv.reader(io.StringIO(text)), []) if self.header_done else []
        return names[index].strip() if index < len(names) and names[index].strip() else f"{index + 1}"


def _place(row: int, column: str) -> str:
    return f"row 1 (the header), column {column}" if row == 1 else f"row {row}, column {column}"


def check_sizes(path: Path, *, cell_limit: int | None = None, file_limit: int | None = None) -> None:
    """Raise :class:`CsvImportError` for a file or a cell over its limit, or a quote never closed."""
    cell_limit = byte_limit(CELL_SETTING) if cell_limit is None else cell_limit
    file_limit = byte_limit(FILE_SETTING) if file_limit is None else file_limit
    size = path.stat().st_size
    scan = _Scan(cell_limit)
    read = 0
    with path.open("rb") as fh:
        while read < min(size, file_limit):
            block = fh.read(min(BLOCK, file_limit - read))
            if not block:
                break
            read += len(block)
            found = scan.feed(block)
            if found is None:
                continue
            row, column, quoted = found
            place = _place(row, scan.column_name(column))
            if quoted:
                raise CsvImportError(
                    f"{place}: a value in double quotes runs on for more than {shown_size(cell_limit)}, the "
                    f"import's limit for one cell ({CELL_SETTING}): close the quote if it was never closed, "
                    f"or raise {CELL_SETTING}.")
            raise CsvImportError(
                f"{place}: the cell is longer than {shown_size(cell_limit)}, the import's limit for one cell "
                f"({CELL_SETTING}): shorten it, or raise {CELL_SETTING}.")
    if size > file_limit:
        raise CsvImportError(
            f"row {scan.row}: {path.name} passes {shown_size(file_limit)} on this row ({shown_size(size)} in all), "
            f"the import's limit for one file ({FILE_SETTING}): split the file, or raise {FILE_SETTING}.")
    if scan.inside and scan.open_at is not None:
        row, column = scan.open_at
        raise CsvImportError(
            f"{_place(row, scan.column_name(column))}: a double quote opens a value that is never closed, so the "
            "rest of the file would be that one cell: close it (a quote inside a value is written twice, \"\").")


def place_of_byte(path: Path, offset: int) -> str:
    """"row N, column C" of the byte at ``offset`` (0-based) in the file, by the same rules as the scan."""
    scan = _Scan(cell_limit=offset + 1)  # no cell can pass it before the offset
    read = 0
    with path.open("rb") as fh:
        while read < offset:
            block = fh.read(min(BLOCK, offset - read))
            if not block:
                break
            read += len(block)
            scan.feed(block)
    return _place(scan.row, scan.column_name(scan.column))


def first_bad_utf8(path: Path) -> int | None:
    """The offset of the first byte that is not UTF-8 text, or None."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(BLOCK)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return read - pending + exc.start
            if not block:
                return None
            read += len(block)
