"""The character encoding of a CSV input: given (``--encoding``) or detected.

County offices keep CSV files saved by Chinese Windows (GB18030/GBK, sometimes with a
BOM) beside UTF-8 ones (with or without a BOM). Detection, in order:

1. a byte-order mark names the encoding (UTF-8 ``EF BB BF``, GB18030 ``84 31 95 33``);
2. a sample that decodes as UTF-8 is UTF-8 (ASCII is UTF-8);
3. a sample that decodes as GB18030 is GB18030 (the superset of GB2312 and GBK): the
   registers are Chinese, and on a short sample with a few Chinese words (``6万``, ``是``)
   charset-normalizer alone prefers Korean cp949, which decodes the same bytes to other
   characters;
4. otherwise charset-normalizer's best guess over the sample (any Chinese national
   encoding read as GB18030; Big5 and UTF-16/32 as guessed); any other guess stops with
   E830 at the first byte that is not UTF-8, since that is what a UTF-8 file with a few
   broken bytes looks like to the guesser.

pyarrow decodes the data itself (``ReadOptions.encoding``), so a file is never copied;
bytes the encoding cannot decode stop the run with E830 naming the encoding and how to
choose another. Names are normalised by Python's codec registry (``gbk`` → ``gbk``,
``GB-18030`` → ``gb18030``); an unknown name is an argument error.
"""
from __future__ import annotations

import codecs

from ...dsl.errors import Bilingual, FupinError, Span, error

SAMPLE = 1 << 20  # bytes looked at to detect the encoding
BOMS = ((codecs.BOM_UTF8, "utf-8"), (b"\x84\x31\x95\x33", "gb18030"))
CHINESE = {"gb2312", "gbk", "gb18030", "hz", "cp936"}
OTHER_TEXT = {"big5", "big5hkscs", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}  # kept as guessed


def codec_name(name: str) -> str:
    """The canonical codec name of an ``--encoding`` (E830 at the arguments if unknown)."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise FupinError(error("E830", Span("<arguments>", 0, 0), encoding=name,
                               detail=Bilingual("未知的编码名", "unknown encoding name"))) from None
    return "utf-8" if canonical in ("utf-8-sig", "utf_8") else canonical


def detect(path) -> str:
    """The encoding of a text file (see the module docstring)."""
    with open(path, "rb") as f:
        sample = f.read(SAMPLE)
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        if _decodes(sample, name):
            return name
    return _guess(sample, path)


def _decodes(sample: bytes, name: str) -> bool:
    # the sample may end inside a character: an incremental decoder waits for the rest
    try:
        codecs.getincrementaldecoder(name)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _guess(sample: bytes, path) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise undecodable(path, Bilingual("UTF-8、GB18030 或其他能识别的", "UTF-8, GB18030 or any encoding fupin can detect"),
                          Bilingual("开头的字节不像任何编码的文本", "its first bytes look like no encoding's text"))
    name = codecs.lookup(best.encoding).name
    if name in CHINESE:
        return "gb18030"
    if name in OTHER_TEXT:
        return name
    # Any other guess (a Cyrillic or Latin code page) is what charset-normalizer makes of a
    # UTF-8 file with a few broken bytes: read so, every Chinese value would turn to
    # mojibake and every row be quarantined. Say where UTF-8 breaks instead; --encoding
    # still reads the file in any codec named.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise undecodable(path, "UTF-8", _reason(exc)) from None
    return name


def header(path, encoding: str) -> list:
    """The first CSV record of a file (BOM dropped), as text."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig" if encoding == "utf-8" else encoding) as f:
            row = next(csv.reader(f), [])
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, _reason(exc)) from None
    if row and row[0].startswith("\ufeff"):
        row[0] = row[0][1:]
    return row


def undecodable(path, encoding: str, detail) -> FupinError:
    """E830 at the input file: its bytes are not text in ``encoding``; located at the line
    and byte where decoding fails when ``encoding`` is a codec the file can be scanned
    with (the file read once more, on this error's path only)."""
    found = first_undecodable(path, encoding) if isinstance(encoding, str) else None
    if found is None:
        return FupinError(error("E830", Span(str(path), 0, 0), encoding=encoding, detail=detail))
    offset, line, column = found
    return FupinError(error("E830", Span(str(path), line, column), encoding=encoding, detail=Bilingual(
        f"第 {line} 行第 {column} 个字节起无法解码（文件第 {offset} 字节）",
        f"cannot decode the bytes from line {line}, byte {column} (offset {offset} of the file)")))


def first_undecodable(path, encoding: str, block: int = 1 << 20) -> tuple | None:
    """``(offset, line, column)`` of the first byte of a file that ``encoding`` cannot
    decode: its offset from the file's start, its line (1-based) and its byte in that
    line (1-based); None when every byte decodes, or the file or codec cannot be read.
    Read in blocks with an incremental decoder, so that a sequence cut by a block's end
    is not mistaken for a broken one."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        f = open(path, "rb")
    except (LookupError, OSError, TypeError):
        return None
    start = 0  # bytes before the block
    with f:
        while True:
            data = f.read(block)
            held = len(decoder.getstate()[0])  # bytes of a sequence the previous blocks left
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                offset = start - held + exc.start
                break
            if not data:
                return None
            start += len(data)
        f.seek(0)  # the error's path only: the lines before it counted, a block at a time
        lines, newline, pos = 0, -1, 0
        while pos < offset:
            data = f.read(min(block, offset - pos))
            if not data:
                break
            if (i := data.rfind(b"\n")) >= 0:
                newline = pos + i
            lines += data.count(b"\n")
            pos += len(data)
    return offset, lines + 1, offset - newline



def _reason(exc: UnicodeDecodeError) -> Bilingual:
    return Bilingual(f"第 {exc.start} 字节起无法解码", f"cannot decode the bytes from offset {exc.start}")
