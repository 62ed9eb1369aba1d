"""The cache of checked policies (engine/cache.py): a hit gives the same policy as checking
again (checked views, warnings in both languages, evaluations, explanations, batch files),
and anything the load depends on — a rule file, a variant, a new file, a cited document,
fupin's own code, the cache's format — makes it check again. A cache file that is cut short,
corrupt or not fupin's is ignored and written again; a cache that cannot be written leaves
the run uncached. (tests/conftest.py gives the session a cache folder of its own; each test
here uses a fresh one.)"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fupin import load_policy
from fupin.dsl.errors import FupinError, render_all
from fupin.engine import cache

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ["policy", "benchmarks/small_policy", "tests/fixtures/mini", "tests/fixtures/bounds", "tests/fixtures/codegen",
            "tests/fixtures/columnar", "tests/fixtures/sumbound"]
HOUSEHOLDS = yaml.safe_load((ROOT / "examples" / "households.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A fresh cache folder per test, the working folder at the repository's root."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FUPIN_CACHE_DIR", str(folder))
    monkeypatch.delenv("FUPIN_NO_CACHE", raising=False)
    monkeypatch.chdir(ROOT)
    return folder


class Counted:
    """Counts the loads that checked the policy (misses) by wrapping the loader."""

    def __init__(self, monkeypatch):
        import fupin.dsl.loader as loader

        self.misses = 0
        real = loader.load_source

        def counted(*args, **kwargs):
            self.misses += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(loader, "load_source", counted)


@pytest.fixture
def counted(monkeypatch):
    return Counted(monkeypatch)


def views(policy):
    """Each view's checked policy as plain nested data (every attribute, spans included;
    object identity and set order left out)."""
    return shape(policy.checked_views())


def shape(value, depth=0):
    assert depth < 200
    if isinstance(value, dict):
        return ("dict", [(shape(k, depth + 1), shape(v, depth + 1)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v, depth + 1) for v in value])
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(shape(v, depth + 1)) for v in value))
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return (type(value).__qualname__, shape(vars(value), depth + 1))
    if hasattr(value, "__slots__"):
        return (type(value).__qualname__, [shape(getattr(value, s, None), depth + 1) for s in value.__slots__])
    return value


def same_policy(a, b) -> None:
    """Two loads of one folder give the same policy: views, warnings, revision, results."""
    assert views(a) == views(b)
    assert a.revision == b.revision and a.variants == b.variants
    for lang in ("zh", "en"):
        assert render_all(a.warnings, lang) == render_all(b.warnings, lang)
    assert [w.to_json("en") for w in a.warnings] == [w.to_json("en") for w in b.warnings]


@pytest.mark.parametrize("folder", POLICIES)
def test_a_hit_is_the_policy_checked_again(folder, counted):
    fresh = load_policy(folder, cache=False)
    assert cache.entries() == []  # cache=False neither reads nor writes
    first = load_policy(folder)
    second = load_policy(folder)
    assert counted.misses == 2 and len(cache.entries()) == 1  # the second load was a hit
    same_policy(fresh, first)
    same_policy(fresh, second)
    assert type(second.source).__name__ == "CachedSource" and second.source.root == Path(folder)
    assert sorted(second.source.rules) == sorted(fresh.source.rules)  # the declarations, loaded when asked for


@pytest.mark.parametrize("variant", [None, "strict"])
def test_evaluations_and_explanations_from_a_hit_are_the_same(variant):
    fresh = load_policy("tests/fixtures/mini", cache=False)
    load_policy("tests/fixtures/mini")
    hit = load_policy("tests/fixtures/mini")
    facts = {"id": "A", "status": "exited", "income_per_capita": 4999, "risk_event": False,
             "members": [{"age": 10, "labor": "none"}, {"labor": "full"}]}
    for policy in (fresh, hit):
        assert policy.evaluate(facts, variant=variant).to_dict() == fresh.evaluate(facts, variant=variant).to_dict()
        for lang in ("zh", "en"):
            assert policy.explain(facts, "tier", variant=variant, lang=lang, depth=None) == \
                fresh.explain(facts, "tier", variant=variant, lang=lang, depth=None)


def test_the_pack_explains_the_same_from_a_hit():
    fresh = load_policy("policy", cache=False)
    load_policy("policy")
    hit = load_policy("policy")
    for household in HOUSEHOLDS:
        a, b = fresh.evaluate(household, trace=True), hit.evaluate(household, trace=True)
        assert a.to_dict() == b.to_dict()
        assert a.trace.model_dump(mode="json", by_alias=True) == b.trace.model_dump(mode="json", by_alias=True)
        for lang in ("zh", "en"):
            assert fresh.explain(household, "monitoring_tier", lang=lang, depth=None) == \
                hit.explain(household, "monitoring_tier", lang=lang, depth=None)


def test_a_batch_writes_the_same_files_from_a_hit(tmp_path, own_cache):
    """`fupin batch` twice in fresh processes (a miss, then a hit): the same result and
    quarantine bytes, the same messages; ``--no-cache`` writes no entry."""
    from conftest import generated_parquet

    data = generated_parquet(tmp_path, 300, 7)
    outs = []
    for n, extra in enumerate([["--no-cache"], [], []]):
        out = tmp_path / f"out{n}.parquet"
        run = subprocess.run([sys.executable, "-m", "fupin.cli.main", "batch", "policy", str(data), "-o", str(out),
                              "--lang", "en", "--summary", *extra], capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        assert len(cache.entries()) == (0 if n == 0 else 1)
        quarantine = out.with_name(f"out{n}.quarantine.csv")
        outs.append((out.read_bytes(), quarantine.read_bytes(), run.stdout,
                     run.stderr.replace(f"out{n}", "out")))
    assert outs[0] == outs[1] == outs[2]


def copy_of(tmp_path, folder="tests/fixtures/mini") -> Path:
    target = tmp_path / "pack"
    shutil.copytree(ROOT / folder, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("file, old, new", [
    ("rules.yaml", "then: green, reason: {zh: 收入10000以上", "then: yellow, reason: {zh: 收入10000以上"),  # a row
    ("rules.yaml", "en: income below 5000}", "en: income under 5000}"),  # a row's reason
    ("declarations.yaml", "{2016-01-01: 5000}", "{2016-01-01: 5200}"),  # a parameter's value
    ("declarations.yaml", "en: poor}", "en: poor household}"),  # a label
    ("variants/strict.yaml", "严格变体", "更严格的变体"),  # a variant
])
def test_editing_a_file_of_the_pack_checks_it_again(tmp_path, counted, file, old, new):
    pack = copy_of(tmp_path)
    before = load_policy(pack)
    load_policy(pack)
    assert counted.misses == 1
    edit(pack / file, old, new)
    after = load_policy(pack)
    assert counted.misses == 2
    same_policy(after, load_policy(pack, cache=False))
    assert views(after) != views(before)


def test_a_new_or_removed_file_checks_it_again(tmp_path, counted):
    pack = copy_of(tmp_path)
    load_policy(pack)
    (pack / "more.yaml").write_text("enums:\n  colour:\n    values:\n      red: {zh: 红}\n", encoding="utf-8")
    assert "colour" in load_policy(pack).program().checked.enums and counted.misses == 2
    (pack / "more.yaml").unlink()  # the pack as first loaded: its entry again
    assert "colour" not in load_policy(pack).program().checked.enums and counted.misses == 2


def test_a_cited_document_that_changes_checks_it_again(tmp_path, counted):
    """The checker counts the lines of cited documents (a citation past the end is an error):
    a document that changes, or goes, is checked again, not answered from a stale entry."""
    pack = copy_of(tmp_path)
    load_policy(pack)
    load_policy(pack)
    doc = pack / "doc001.txt"
    doc.write_text("\n".join(doc.read_text(encoding="utf-8").splitlines()[:5]) + "\n", encoding="utf-8")
    check = [sys.executable, "-c", "import sys; from fupin import load_policy; load_policy(sys.argv[1])", str(pack)]
    fresh = subprocess.run(check, capture_output=True, text=True)
    assert counted.misses == 1 and fresh.returncode != 0 and "E106" in fresh.stderr
    with pytest.raises(FupinError) as again:  # in this process too: the checker reads the document again
        load_policy(pack)
    assert again.value.code == "E106" and cache.entries() != [] and counted.misses == 2
    doc.unlink()
    load_policy(pack)  # an unreadable document is a warning (W905), and the policy is stored again
    assert counted.misses == 3


def test_a_document_cut_short_in_a_long_running_process_is_checked_against_its_new_length(tmp_path, counted):
    """A served policy (``fupin serve --reload``, the workbench) is loaded again in the same
    process after its files change: the lines of a cited document are counted again, so the
    load fails as a fresh process's does and no entry holds the old count under the new hash."""
    pack = copy_of(tmp_path)
    load_policy(pack)
    doc = pack / "doc001.txt"
    doc.write_text("\n".join(doc.read_text(encoding="utf-8").splitlines()[:5]) + "\n", encoding="utf-8")
    (pack / "rules.yaml").write_text((pack / "rules.yaml").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(FupinError) as cached:
        load_policy(pack)
    with pytest.raises(FupinError) as fresh:
        load_policy(pack, cache=False)
    assert render_all(cached.value.diagnostics, "en") == render_all(fresh.value.diagnostics, "en")
    assert cached.value.code == "E106" and len(cache.entries()) == 1  # the first load's entry only


def test_a_document_edited_during_the_check_is_not_stored(tmp_path, monkeypatch, counted):
    """The documents are hashed before and after the check: one edited meanwhile leaves the
    load unstored, so no entry pairs one content's hash with another's line count."""
    import fupin.dsl.checker.views as views_module

    pack = copy_of(tmp_path)
    doc = pack / "doc001.txt"
    real = views_module.check_all

    def edited_meanwhile(src):
        found = real(src)
        doc.write_text(doc.read_text(encoding="utf-8") + "one more line\n", encoding="utf-8")
        return found
    monkeypatch.setattr(views_module, "check_all", edited_meanwhile)
    load_policy(pack)
    assert cache.entries() == []


def test_a_policy_with_errors_is_never_stored():
    for _ in range(2):
        with pytest.raises(FupinError) as raised:
            load_policy("tests/fixtures/broken")
    assert cache.entries() == []
    with pytest.raises(FupinError) as fresh:
        load_policy("tests/fixtures/broken", cache=False)
    assert render_all(raised.value.diagnostics, "en") == render_all(fresh.value.diagnostics, "en")


def test_fupin_code_or_the_format_changing_checks_it_again(monkeypatch, counted):
    load_policy("tests/fixtures/mini")
    monkeypatch.setattr(cache, "code_stamp", lambda: "another fupin")
    load_policy("tests/fixtures/mini")
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    load_policy("tests/fixtures/mini")
    assert counted.misses == 3 and len(cache.entries()) == 3


def test_the_code_stamp_follows_fupin_own_files(tmp_path, monkeypatch):
    folders = [tmp_path / "dsl", tmp_path / "engine"]
    for code in folders:
        code.mkdir()
        (code / "module.py").write_text("A = 1\n")
    monkeypatch.setattr(cache, "CODE_FOLDERS", folders)
    stamps = []
    for code, text in [(None, None), (folders[0], "A = 22\n"), (folders[1], "A = 333\n")]:
        if code is not None:
            (code / "module.py").write_text(text)
        cache.code_stamp.cache_clear()
        stamps.append(cache.code_stamp())
    cache.code_stamp.cache_clear()
    assert len(set(stamps)) == 3 and None not in stamps


def test_the_code_stamp_covers_every_source_file_of_dsl_and_engine():
    """engine/api.py decides what is stored, and the checker and the stored classes are in
    dsl/: every .py (and the grammar) under both is stamped, and nothing else of fupin's."""
    expected = sorted(str(p) for top in ("dsl", "engine") for p in (ROOT / top).rglob("*")
                      if p.suffix in (".py", ".lark") and "__pycache__" not in p.parts)
    assert cache.code_files() == expected
    assert str(ROOT / "engine" / "api.py") in expected and str(ROOT / "dsl" / "grammar.lark") in expected


def entry_file() -> Path:
    [found] = cache.entries()
    return found


@pytest.mark.parametrize("spoil", [
    lambda data: data[: len(data) // 2],  # cut short
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit of the pickle flipped
    lambda data: data.replace("收入低于5000元".encode(), "收入低于6000元".encode()),  # still a pickle, other text
    lambda data: b"not a cache file at all\n",  # someone else's file
    lambda data: b"",  # empty
    lambda data: data.replace(cache.MAGIC, b"fupin checked policy v0\n", 1),  # another format's header
])
def test_a_spoilt_entry_is_ignored_and_written_again(counted, spoil):
    good = load_policy("tests/fixtures/mini")
    path = entry_file()
    whole = path.read_bytes()
    path.write_bytes(spoil(whole))
    again = load_policy("tests/fixtures/mini")
    assert counted.misses == 2
    same_policy(good, again)
    assert path.read_bytes() == whole  # rewritten whole


def test_an_entry_of_another_policy_under_this_name_is_ignored(counted):
    """A whole, checksummed entry of another folder copied to this one's name: its key does not match."""
    load_policy("tests/fixtures/mini")
    mini = entry_file()
    load_policy("tests/fixtures/codegen")
    other = next(p for p in cache.entries() if p != mini)
    shutil.copyfile(other, mini)
    same_policy(load_policy("tests/fixtures/mini"), load_policy("tests/fixtures/mini", cache=False))
    assert counted.misses == 4


def test_an_unwritable_cache_folder_leaves_the_run_uncached(tmp_path, monkeypatch, counted):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("FUPIN_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be made
    for _ in range(2):
        same_policy(load_policy("tests/fixtures/mini"), load_policy("tests/fixtures/mini", cache=False))
    assert counted.misses == 4


def test_a_write_cut_short_leaves_no_entry(monkeypatch, own_cache, counted):
    import os

    def killed(*_):
        raise OSError("killed")
    monkeypatch.setattr(os, "replace", killed)
    load_policy("tests/fixtures/mini")
    monkeypatch.undo()
    assert list(own_cache.iterdir()) == []  # neither an entry nor its temporary file


def test_no_cache_turns_it_off(monkeypatch, counted):
    monkeypatch.setenv("FUPIN_NO_CACHE", "1")
    load_policy("tests/fixtures/mini")
    load_policy("tests/fixtures/mini")
    assert counted.misses == 2 and cache.entries() == []


def test_fupin_cache_shows_and_clears_it(own_cache):
    from click.testing import CliRunner

    from fupin.cli.main import main

    load_policy("tests/fixtures/mini")
    out = CliRunner().invoke(main, ["cache", "--lang", "en"]).output
    assert out.startswith(f"{own_cache}: 1 checked policy, ")
    assert CliRunner().invoke(main, ["cache", "--clear", "--lang", "en"]).output == \
        f"removed 1 checked policy and 0 unfinished temporary files from {own_cache}\n"
    assert cache.entries() == []
    load_policy("tests/fixtures/mini")
    load_policy("tests/fixtures/columnar")
    assert CliRunner().invoke(main, ["cache", "--lang", "en"]).output.startswith(f"{own_cache}: 2 checked policies, ")
    assert CliRunner().invoke(main, ["cache", "--lang", "zh"]).output.startswith(f"{own_cache}：2 个已检查的政策，")


@pytest.mark.parametrize("spoil", ["symlink outside", "dangling symlink", "unreadable"])
def test_a_key_that_cannot_be_computed_loads_uncached(tmp_path, monkeypatch, spoil):
    """The cache's key reads the pack's files before the loader does: a file it cannot read
    (a symlink out of the folder, a file without read permission) leaves the load to the
    loader, which reports it exactly as without the cache."""
    pack = copy_of(tmp_path)
    if spoil == "symlink outside":
        outside = tmp_path / "outside.yaml"
        outside.write_text("enums: {}\n", encoding="utf-8")
        (pack / "linked.yaml").symlink_to(outside)
    elif spoil == "dangling symlink":
        (pack / "linked.yaml").symlink_to(tmp_path / "gone.yaml")
    else:
        real = Path.read_bytes

        def refused(self):
            if self.name == "rules.yaml":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)
        monkeypatch.setattr(Path, "read_bytes", refused)
        real_open = open

        def refused_open(file, *args, **kwargs):
            if str(file).endswith("rules.yaml"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)
        monkeypatch.setattr("builtins.open", refused_open)
    outcomes = []
    for use in (True, False):
        try:
            load_policy(pack, cache=use)
            outcomes.append("loaded")
        except FupinError as exc:
            outcomes.append(render_all(exc.diagnostics, "en"))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == "loaded" if spoil == "symlink outside" else "E107" in outcomes[0] and cache.entries() == []


def planted(folder: Path, name: str, header: bytes | None, marker: Path) -> Path:
    """A file under an entry's name whose pickle creates ``marker`` when unpickled, with a
    valid checksum and the given plain header (None: the right one for ``name``)."""
    import hashlib
    import pickle

    class Planted:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    body = pickle.dumps({"key": name, "format": cache.FORMAT, "x": Planted()})
    header = header if header is not None else b'{"format": %d, "key": "%s"}\n' % (cache.FORMAT, name.encode())
    path = folder / (name + cache.SUFFIX)
    path.write_bytes(cache.MAGIC + header + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    path.chmod(0o600)
    return path


def entry_name(folder="tests/fixtures/mini") -> str:
    return cache.key(folder, cache.pack_revision(folder))


@pytest.mark.parametrize("how", ["another key in the header", "entry writable by others", "folder writable by others",
                                 "folder of another user", "entry a symlink"])
def test_a_planted_entry_is_never_unpickled(tmp_path, own_cache, monkeypatch, counted, how):
    """Pickle runs code: an entry is unpickled only from the user's own folder and file,
    writable by no one else, opened without following a symlink, and only once its plain
    header names this load's key and format."""
    import os

    marker = tmp_path / "pwned"
    load_policy("tests/fixtures/mini")  # makes the folder as fupin makes it
    name = entry_name()
    if how == "another key in the header":
        planted(own_cache, name, b'{"format": %d, "key": "%s"}\n' % (cache.FORMAT, b"0" * 64), marker)
    elif how == "entry writable by others":
        planted(own_cache, name, None, marker).chmod(0o666)
    elif how == "folder writable by others":
        planted(own_cache, name, None, marker)
        own_cache.chmod(0o777)
    elif how == "folder of another user":
        planted(own_cache, name, None, marker)
        real = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: real + 1)
    else:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        target = planted(elsewhere, name, None, marker)
        (own_cache / (name + cache.SUFFIX)).unlink()
        (own_cache / (name + cache.SUFFIX)).symlink_to(target)
    same_policy(load_policy("tests/fixtures/mini"), load_policy("tests/fixtures/mini", cache=False))
    assert not marker.exists() and counted.misses == 3


def test_the_same_planted_entry_in_a_trusted_place_would_run(tmp_path, own_cache):
    """The control of the test above: the planted file is a working attack when every
    check passes (a program running as the user can do anything the user can)."""
    marker = tmp_path / "pwned"
    load_policy("tests/fixtures/mini")
    planted(own_cache, entry_name(), None, marker)
    load_policy("tests/fixtures/mini")
    assert marker.exists()


def test_the_cache_folder_is_made_private(own_cache):
    load_policy("tests/fixtures/mini")
    assert own_cache.stat().st_mode & 0o777 == 0o700
    assert entry_file().stat().st_mode & 0o777 == 0o600


def test_a_folder_writable_by_others_is_not_written(own_cache, counted):
    from click.testing import CliRunner

    from fupin.cli.main import main

    own_cache.mkdir(mode=0o700)
    own_cache.chmod(0o777)
    load_policy("tests/fixtures/mini")
    load_policy("tests/fixtures/mini")
    assert counted.misses == 2 and list(own_cache.iterdir()) == []
    assert CliRunner().invoke(main, ["cache", "--lang", "en"]).output == \
        f"{own_cache}: 0 checked policies, 0 KiB (not used: the folder is not the user's own, or others can write to it)\n"


def test_clear_removes_only_fupin_files(own_cache):
    """``fupin cache --clear`` of a folder shared with other files (FUPIN_CACHE_DIR=project)
    removes fupin's entries and the temporary files of killed writes, nothing else."""
    from click.testing import CliRunner

    from fupin.cli.main import main

    load_policy("tests/fixtures/mini")
    theirs = {"insurance.policy": b"my insurance", "notes.txt": b"notes", ("a" * 64) + ".policy": b"not fupin's",
              ".tmp-mine.policy": b"someone else's temporary"}
    for name, data in theirs.items():
        (own_cache / name).write_bytes(data)
    leftovers = {".fupin-tmp-x1.policy": b"", ".tmp-x2.policy": cache.MAGIC + b"cut"}  # format 1's prefix too
    for name, data in leftovers.items():
        (own_cache / name).write_bytes(data)
    assert [p.name for p in cache.entries()] == [entry_name() + cache.SUFFIX]
    assert sorted(p.name for p in cache.leftovers()) == sorted(leftovers)
    out = CliRunner().invoke(main, ["cache", "--lang", "en"]).output
    assert out.startswith(f"{own_cache}: 1 checked policy, ") and \
        out.endswith(", and 2 unfinished temporary files (fupin cache --clear removes them)\n")
    out = CliRunner().invoke(main, ["cache", "--clear", "--lang", "zh"]).output
    assert out == f"已删除 1 个已检查的政策和 2 个未写完的临时文件：{own_cache}\n"
    assert sorted(p.name for p in own_cache.iterdir()) == sorted(theirs)


def test_the_least_recently_used_entries_go(monkeypatch, counted):
    """At most MAX_ENTRIES entries: writing one more removes the least recently used
    (a hit counts as a use)."""
    import time

    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    names = {}
    for folder in ["tests/fixtures/mini", "tests/fixtures/codegen", "tests/fixtures/mini", "tests/fixtures/bounds"]:
        load_policy(folder)
        names[folder] = entry_name(folder) + cache.SUFFIX
        time.sleep(0.05)  # file times are coarser than a load
    assert sorted(p.name for p in cache.entries()) == sorted([names["tests/fixtures/mini"],
                                                              names["tests/fixtures/bounds"]])
    assert counted.misses == 3


@pytest.mark.parametrize("value, on", [("", True), ("0", True), ("false", True), ("No", True), ("off", True),
                                       ("1", False), ("yes", False), ("true", False), ("anything", False)])
def test_fupin_no_cache_values(monkeypatch, value, on):
    monkeypatch.setenv("FUPIN_NO_CACHE", value)
    assert cache.enabled() is on


def test_batch_no_cache_leaves_the_process_environment_alone(tmp_path, monkeypatch):
    """``fupin batch --no-cache`` is an argument of the load, not a setting of the process."""
    import os

    from click.testing import CliRunner

    from conftest import generated_parquet
    from fupin.cli.main import main

    data = generated_parquet(tmp_path, 20, 3)
    run = CliRunner().invoke(main, ["batch", "policy", str(data), "-o", str(tmp_path / "out.parquet"), "--no-cache"])
    assert run.exit_code == 0, run.output
    assert "FUPIN_NO_CACHE" not in os.environ and cache.entries() == []
