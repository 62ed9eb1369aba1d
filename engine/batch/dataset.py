"""A results dataset: a folder of Parquet parts written by the Dask workers (``-o out/``).

An output written ``DIR/`` (a trailing slash) or naming an existing folder is a dataset:
``part-00000.parquet``, ``part-00001.parquet``, … one per partition, in input order by
name (all names of one run have the same width), and ``_SUCCESS`` (empty). Each Dask task
writes its own part on the worker, so result rows never travel through the client; the
client writes the quarantine, the accounting line and the run record.

How a run writes it, so that nothing incomplete looks complete:

1. the client makes a staging folder beside the final one, under the temporary name of
   every other output (``.out.PID.part``, outputs.temp_name), hidden;
2. each task writes its part there with the local run's writer, itself under a temporary
   name renamed when the part is complete (a task that Dask retries replaces it whole);
3. when every task is done, the client checks that every part is there, writes
   ``_SUCCESS`` and renames the folder to its final name (an earlier dataset of that name
   is replaced; a folder holding anything else is refused, E804, before the run starts).

A failed run removes the staging folder; a killed one leaves a hidden ``.out.PID.part``
folder, which the next run to the same path removes (its process is gone).

The reader's contract: a folder ``out/`` is complete (it has ``_SUCCESS``); read it whole
with ``pyarrow.parquet.read_table("out/")`` or ``pyarrow.dataset.dataset("out/")``, which
take the parts in name order (= input order) and skip names starting with ``.`` or ``_``.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .outputs import ResultWriter, temp_name, write_failed
from .runrecord import file_hash
from .source import bad_argument

SUCCESS = "_SUCCESS"
PART = re.compile(r"part-\d+\.parquet")


def is_dataset(path) -> bool:
    """An output written as a folder: ``DIR/`` or an existing directory."""
    text = os.fspath(path)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


def part_path(folder: str, index: int, count: int) -> str:
    """The file of part ``index`` of ``count``: zero-padded so name order is input order."""
    return os.path.join(folder, f"part-{index:0{max(5, len(str(count - 1)))}d}.parquet")


def write_part(folder: str, index: int, count: int, schema, fill):
    """Write one part: ``fill(sink)`` sends it each table (chunk after chunk) and returns
    what it returns; the file is renamed to its part name only when complete."""
    writer = ResultWriter(part_path(folder, index, count), schema, "parquet")
    try:
        done = fill(writer.write)
    except BaseException:
        writer.abort()
        raise
    writer.commit()
    return done


class DatasetWriter:
    """The client's side of a dataset output: the staging folder, then the final rename.

    Answers ``commit()``, ``abort()`` and ``path`` as a file writer does, so a run
    finishes it the same way (pipeline.finish_writers); ``parts`` is set once the
    partitions are known (``commit`` checks that each one was written)."""

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path).rstrip("/" + os.sep) or os.sep)
        self.parts = 0
        _check_replaceable(self.path)
        _remove_stale(self.path)
        self.folder = temp_name(self.path)  # absolute: the workers write there
        try:
            os.makedirs(self.folder)
        except OSError as exc:
            raise write_failed(self.path, exc) from None

    def commit(self) -> None:
        """``_SUCCESS`` written and the folder given its final name, every part being there."""
        expected = {os.path.basename(part_path(self.folder, i, self.parts)) for i in range(self.parts)}
        missing = sorted(expected - set(os.listdir(self.folder)))
        if missing:
            raise write_failed(self.path, FileNotFoundError(f"{missing[0]} was not written"))
        try:
            Path(self.folder, SUCCESS).touch()
            old = None
            if os.path.exists(self.path):
                old = self.folder + ".old"
                os.rename(self.path, old)
            os.replace(self.folder, self.path)
        except OSError as exc:
            raise write_failed(self.path, exc) from None
        if old is not None:
            import shutil  # shutil and glob: dataset outputs only (start-up of other runs)

            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the staging folder and what the tasks wrote in it. Renamed first: a task
        still running on a worker can then neither add a file to it nor finish a part (its
        paths name the old folder), so nothing is left once it is removed."""
        gone = self.folder + ".old"
        try:
            os.rename(self.folder, gone)
        except OSError:
            gone = self.folder
        import shutil

        shutil.rmtree(gone, ignore_errors=True)


def dataset_hash(folder) -> str:
    """``sha256:…`` of a dataset: of each part's name and hash, in name order."""
    h = hashlib.sha256()
    for name in sorted(n for n in os.listdir(folder) if PART.fullmatch(n)):
        h.update(f"{name}\0{file_hash(os.path.join(folder, name))}\n".encode())
    return "sha256:" + h.hexdigest()


def _check_replaceable(path: str) -> None:
    """E804 for an existing output that a dataset must not replace: a file, or a folder
    holding anything but an earlier dataset's parts."""
    if not os.path.exists(path):
        return
    if not os.path.isdir(path):
        raise bad_argument(f"输出 `{path}/` 应为文件夹，但已有同名文件", f"the output `{path}/` is a folder, and a file has that name")
    other = [n for n in os.listdir(path) if n != SUCCESS and not PART.fullmatch(n)]
    if other:
        raise bad_argument(f"输出文件夹 `{path}` 中有非数据集文件（如 `{other[0]}`），不予替换",
                           f"the output folder `{path}` holds files that are not a dataset's (`{other[0]}`): "
                           f"it is not replaced")


def _remove_stale(path: str) -> None:
    """Staging folders of earlier runs to ``path`` whose process is gone (``kill -9``),
    and the earlier dataset of a commit killed between its two renames (``….part.old``)."""
    import shutil
    from glob import escape as glob_escape

    p = Path(path)
    found = [*p.parent.glob(f".{glob_escape(p.name)}.*.part"), *p.parent.glob(f".{glob_escape(p.name)}.*.part.old")]
    for temp in found:
        pid = temp.name[len(p.name) + 2:].split(".")[0]
        if temp.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(temp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's process has that pid
        return True
    return True
