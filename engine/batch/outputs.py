"""The result table of a chunk, and the writers of results and quarantine.

One row per evaluated input row, in input order: the id, every selected output (null
when it is unknown or an error), then ``unknown`` (output → the facts it waits for:
compact dictionary-encoded items in Parquet by default, JSON text in CSV and .xlsx and
with ``--unknown json``, left out with ``--unknown off``; unknowns.py), ``possible`` (JSON text: an unknown bool or enum output → the values still
possible) and ``errors`` (JSON text: output → ``"CODE message"``). Types in Parquet:
bool, int64, money ``decimal128(18,2)``, enum values as text, dates ``date32``, ratios
and decimals as exact decimal text. CSV writes the same columns as text, money like the
JSON of ``fupin eval`` (``4999.5``, ``3000``).
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import json
import os
from glob import escape as glob_escape
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ...dsl.errors import FupinError, Span, error
from ..reports.jsonout import decimal_text, dumps, plain_json
from ..columnar.frame import enum_values
from . import unknowns

MONEY = pa.decimal128(18, 2)
ARROW = {"bool": pa.bool_(), "integer": pa.int64(), "money": MONEY, "date": pa.date32()}
QUARANTINE_COLUMNS = ("row", "id", "field", "code", "reason")
DETAILS_AT_ONCE = 2048  # undecided rows re-evaluated (ColumnarResult.details) per call


def output_schema(checked, key: str, outputs: list, carried=(), unknown: str = "json") -> pa.Schema:
    """The result columns: id, the carried key columns (keys.py), each output, unknown
    (in its encoding, unknowns.py; none for ``"off"``), possible, errors."""
    fields = [pa.field(key, pa.string())] + [pa.field(name, pa.string()) for name in carried]
    fields += [pa.field(name, ARROW.get(checked.rules[name].type.kind, pa.string())) for name in outputs]
    if unknowns.column_type(unknown) is not None:
        fields.append(pa.field("unknown", unknowns.column_type(unknown)))
    fields += [pa.field(name, pa.string()) for name in ("possible", "errors")]
    return pa.schema(fields)


def result_table(result, ids, schema: pa.Schema, explained, carried=()) -> pa.Table:
    """The result rows of one evaluated frame (``ids``: the key column in row order, an
    arrow array or Python strings; ``carried``: text arrays of the carried key columns;
    ``explained``: the columns from :func:`explanations`)."""
    checked = result.program.program.checked
    columns = [ids if isinstance(ids, pa.Array) else pa.array(ids, pa.string()), *carried]
    for name in result.outputs:
        rule = checked.rules[name]
        mask = result.unknown[name] | result.error[name]
        columns.append(output_array(result.values[name], mask, rule.type, checked))
    columns += list(explained)
    return pa.Table.from_arrays(columns, schema=schema)


def output_array(data: np.ndarray, mask: np.ndarray, rtype, checked) -> pa.Array:
    """One output column in its arrow type, null where ``mask``."""
    kind, n = rtype.kind, len(data)
    if kind == "money":
        return money_array(data, mask)
    if kind == "bool":
        return with_nulls(pa.bool_(), np.packbits(np.asarray(data, dtype=bool), bitorder="little"), mask)
    if kind == "integer":
        return with_nulls(pa.int64(), np.ascontiguousarray(data, dtype=np.int64), mask)
    if kind == "date":
        return with_nulls(pa.date32(), data.astype(np.int32), mask)
    if kind == "enum":
        values = pa.array(list(enum_values(checked, rtype)), pa.string())
        return values.take(with_nulls(pa.int32(), data.astype(np.int32), mask))
    if kind in ("decimal", "ratio"):
        return decimal_texts(data, mask)
    return pa.array([None if mask[i] else dumps(plain_json(data[i]), indent=None) for i in range(n)], pa.string())


def decimal_texts(data: np.ndarray, mask: np.ndarray) -> pa.Array:
    """Exact decimal text per row (null where ``mask``), each distinct value's text made
    once: an output's decimals (shares, floor areas) take few values. Equal Decimals
    have one text (``decimal_text`` drops trailing zeros), so ``0.5`` and ``0.50`` share it."""
    cells = data.tolist()
    index = {x: i for i, x in enumerate(dict.fromkeys(cells))}  # hashing in C
    codes = np.fromiter(map(index.__getitem__, cells), dtype=np.int64, count=len(cells))
    texts = pa.array([decimal_text(x) if x is not None else "" for x in index], pa.string())
    return texts.take(with_nulls(pa.int64(), codes, mask))


def money_array(fen: np.ndarray, mask: np.ndarray) -> pa.Array:
    """Integer fen as ``decimal128(18,2)`` without going through Python objects."""
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    np.right_shift(fen, 63, out=words[:, 1])
    return with_nulls(MONEY, words, mask)


def with_nulls(atype: pa.DataType, buffer: np.ndarray, mask: np.ndarray) -> pa.Array:
    """A fixed-width arrow array of ``len(mask)`` rows over a numpy buffer (the values,
    or for bool their bits), null where ``mask``: the buffers ``pa.array(data,
    mask=mask)`` makes, built ~20x faster (its conversion of the mask costs more than
    the column); the same values, and the same Parquet bytes."""
    mask = np.asarray(mask, dtype=bool)
    validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    return pa.Array.from_buffers(atype, len(mask), [validity, pa.py_buffer(buffer)],
                                 null_count=int(np.count_nonzero(mask)))


def explanations(result, lang: str, unknown: str = "json") -> list:
    """The ``unknown`` (in its encoding, unknowns.py; left out for ``"off"``),
    ``possible`` and ``errors`` columns: JSON texts, ``{}`` where all is decided
    (``possible``: an unknown bool or enum output → the values still possible, as
    settling by cases found them, engine/core/exact.py).

    The facts an unknown output waits on come from the columnar evaluation (``why``
    ids): each output's ``"name": [facts]`` text is made once per distinct id. Only rows
    with an error (for its diagnostic) or with facts not tracked there are re-evaluated
    by the scalar evaluator (``details``).
    """
    n = result.n
    waits, fails = _explained_rows(result, lang, unknown != "off")
    errors = pa.repeat(pa.scalar("{}"), n)
    if fails:
        errors = _replaced(errors, n, {row: json.dumps(f, ensure_ascii=False) for row, f in fails.items()})
    columns = [possible_column(result), errors]
    if unknown == "compact":
        return [unknowns.compact_column(result, waits), *columns]
    if unknown == "json":
        return [_json_unknown(result, waits), *columns]
    return columns


def _json_unknown(result, waits: dict) -> pa.Array:
    """The ``json`` encoding: per row the text of ``{output: facts}``."""
    n = result.n
    # outputs decided on every row add nothing (with the benchmark ruleset: all of them)
    parts = [_waits_column(result, name) for name in result.outputs if result.unknown[name].any()]
    if parts:
        # each part starts with ", " (or is empty): join, then drop the first separator
        inner = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*parts, ""), 2)
        unknown = pc.binary_join_element_wise("{", inner, "}", "")
    else:
        unknown = pa.repeat(pa.scalar("{}"), n)
    if not waits:
        return unknown
    return _replaced(unknown, n, {row: json.dumps(w, ensure_ascii=False) for row, w in waits.items()})


def _replaced(column, n: int, texts: dict) -> pa.Array:
    """``column`` with the rows of ``texts`` (row → text, in row order) replaced."""
    mask = np.zeros(n, dtype=bool)
    mask[list(texts)] = True
    return pc.replace_with_mask(column, pa.array(mask), pa.array(list(texts.values()), pa.string()))


def _explained_rows(result, lang: str, want_waits: bool) -> tuple:
    """``(waits, fails)``: row → ``{output: facts}`` and row → ``{output: "CODE
    message"}`` for the rows the scalar evaluator explains (their errors' diagnostics,
    facts not tracked by the columnar evaluation), in row order."""
    rows = result.rows_to_explain() if want_waits else result.error_rows()
    waits, fails = {}, {}
    for start in range(0, len(rows), DETAILS_AT_ONCE):  # bounded: an Evaluation per row is large
        part = rows[start:start + DETAILS_AT_ONCE]
        details = result.details(part)
        for row in part.tolist():
            waits[row], fails[row] = _explain_row(result, details[row], row, lang)
    return (waits if want_waits else {}), fails


def possible_column(result) -> pa.Array:
    """Per row, ``{"output": [values]}`` for each unknown bool or enum output whose
    possible values are known (``{}`` elsewhere): the same lists ``fupin eval`` gives."""
    rows: dict = {}
    for name in result.outputs:
        for row, values in result.possible.get(name, {}).items():
            rows.setdefault(row, {})[name] = plain_json(values)
    if not rows:
        return pa.repeat(pa.scalar("{}"), result.n)
    texts = ["{}"] * result.n
    for row, found in rows.items():
        texts[row] = json.dumps(found, ensure_ascii=False)
    return pa.array(texts, pa.string())


def _waits_column(result, name: str) -> pa.Array:
    """Per row, ``, "name": [facts]`` where the output is unknown (as json.dumps writes
    a dict item), empty where it is not."""
    ids = np.where(result.unknown[name], result.why[name], 0) + 1  # -1 (untracked) → 0
    seen = np.flatnonzero(np.bincount(ids))  # ids are small: a lookup table, not a sort
    lookup = np.zeros(int(seen[-1]) + 1 if len(seen) else 1, dtype=np.int64)
    lookup[seen] = np.arange(len(seen))
    distinct, index = seen - 1, lookup[ids]
    key = json.dumps(name, ensure_ascii=False)
    texts = ["" if i <= 0 else f", {key}: {json.dumps(result.whys.facts(i), ensure_ascii=False)}"
             for i in distinct.tolist()]
    return pa.array(texts, pa.string()).take(pa.array(index))


def _explain_row(result, ev, row: int, lang: str):
    """What one row's undecided outputs wait for, and its outputs' errors."""
    waits = {}
    for name in result.outputs:
        if result.unknown[name][row]:
            facts = result.facts(name, row)
            waits[name] = facts if facts is not None else list(ev.unknown.get(name, []))
    fails = {}
    for name in result.outputs:
        if result.error[name][row]:
            diag = ev.errors.get(name)
            fails[name] = f"{diag.code} {diag.message(lang)}" if diag is not None else ""
    return waits, fails


# --- writers
#
# Every file is written under a temporary name beside its final path and renamed when
# the run succeeds (os.replace: atomic on one filesystem). A killed or failed run leaves
# at most a hidden ``.NAME.PID.part`` file, never a file that looks complete; a failed run
# removes its temporary files, and the next run to the same path removes those of killed
# runs (their process is gone). Failures to write are E831 at the final path, distinct
# from bad input (E804/E830).


def temp_name(path) -> str:
    """The temporary name a file is written under until the run succeeds."""
    p = Path(path)
    return str(p.with_name(f".{p.name}.{os.getpid()}.part"))


def remove_stale(path) -> list:
    """Remove the temporary files of earlier runs to ``path`` whose process no longer
    runs (a ``kill -9`` leaves one); those of a run still going are kept. The paths removed."""
    p = Path(path)
    removed = []
    for temp in p.parent.glob(f".{glob_escape(p.name)}.*.part"):
        pid = temp.name[len(p.name) + 2:-len(".part")]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                temp.unlink()
                removed.append(str(temp))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process of another user has that pid
        return True
    return True


def write_failed(path, exc) -> FupinError:
    """E831 located at the output: it could not be written (disk full, permissions…)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.errno is not None:
        text = f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror or text}"
    return FupinError(error("E831", Span(str(path), 0, 0), path=str(path), detail=text))


class _Atomic:
    """A file written under :func:`temp_name` and renamed on :meth:`commit`."""

    def __init__(self, path):
        self.path = str(path)
        self.temp = temp_name(self.path)
        remove_stale(self.path)

    def guarded(self, action, *args):
        """Run one write step; OSError and Arrow errors become E831 at the final path."""
        try:
            return action(*args)
        except (OSError, pa.ArrowException) as exc:
            raise write_failed(self.path, exc) from None

    def commit(self) -> None:
        """Finish the file and give it its final name."""
        self.guarded(self._finish)
        self.guarded(os.replace, self.temp, self.path)

    def abort(self) -> None:
        """Drop the temporary file (the run failed): nothing is left that looks complete."""
        try:
            self._finish()
        except Exception:  # already failing: the first error is the one reported
            pass
        with contextlib.suppress(OSError):
            os.unlink(self.temp)

    def _finish(self) -> None:
        raise NotImplementedError


class ResultWriter(_Atomic):
    """Writes result tables to Parquet, CSV or .xlsx, chunk after chunk.

    ``bom``: CSV starts with a UTF-8 byte-order mark, so that Excel reads it as UTF-8
    (without one, Excel on Chinese Windows reads it as GBK and shows mojibake).
    """

    def __init__(self, path, schema: pa.Schema, fmt: str, bom: bool = False):
        super().__init__(path)
        self.schema, self.fmt = schema, fmt
        self.money = [f.name for f in schema if f.type == MONEY]
        self._file = None
        self._writer = self.guarded(self._open, bom)

    def _open(self, bom: bool):
        if self.fmt == "parquet":
            # dictionary pages for the repetitive text columns (enums, unknown, errors),
            # not for the ids, which are all distinct: trying costs more than it saves
            repetitive = [f.name for f in list(self.schema)[1:] if f.type == pa.string()]
            # the compact unknown column's items keep each chunk's dictionary (its leaf
            # named: a list's own name would turn the dictionary into plain text)
            repetitive += [f"{f.name}.list.element" for f in self.schema if f.type == unknowns.COMPACT]
            return pq.ParquetWriter(self.temp, self.schema, compression="zstd", use_dictionary=repetitive)
        if self.fmt == "xlsx":
            from .excel import SheetWriter

            return SheetWriter(self.temp, self.schema)
        self._file = open(self.temp, "wb")
        if bom:
            self._file.write(codecs.BOM_UTF8)
        import pyarrow.csv as pcsv  # CSV results only: a Parquet run need not import it (start-up)

        return pcsv.CSVWriter(self._file, self._text_schema())

    def write(self, table: pa.Table) -> None:
        """Append one chunk's rows (a compact ``unknown`` column as JSON text in CSV and .xlsx)."""
        if self.fmt != "parquet":
            table = unknowns.decoded(table)
        if self.fmt == "csv":
            table = self._as_text(table)
        self.guarded(self._writer.write_table, table)

    def _finish(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def _text_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, pa.string()) if f.type in (MONEY, unknowns.COMPACT) else f
                          for f in self.schema])

    def _as_text(self, table: pa.Table) -> pa.Table:
        for name in self.money:
            i = table.schema.get_field_index(name)
            text = pc.replace_substring_regex(table.column(i).cast(pa.string()), r"\.?0+$", "")
            table = table.set_column(i, pa.field(name, pa.string()), text)
        return table


class QuarantineWriter(_Atomic):
    """Writes quarantined rows as CSV or JSON lines (by the file's extension)."""

    def __init__(self, path, bom: bool = False):
        super().__init__(path)
        self.jsonl = Path(self.path).suffix.lower() in (".jsonl", ".ndjson")
        encoding = "utf-8-sig" if bom and not self.jsonl else "utf-8"
        self._file = self.guarded(open, self.temp, "w", -1, encoding, None, "")
        self._csv = None if self.jsonl else csv.writer(self._file)
        if self._csv is not None:
            self.guarded(self._csv.writerow, QUARANTINE_COLUMNS)

    def write(self, entries: list) -> None:
        """Append quarantine entries: (row, id, field, code, reason) tuples."""
        self.guarded(self._write, entries)

    def _write(self, entries: list) -> None:
        for entry in entries:
            if self.jsonl:
                self._file.write(json.dumps(dict(zip(QUARANTINE_COLUMNS, entry)), ensure_ascii=False) + "\n")
            else:
                self._csv.writerow(["" if v is None else v for v in entry])

    def _finish(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
