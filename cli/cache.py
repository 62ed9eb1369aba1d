"""``fupin cache [--clear]``: where the cache of checked policies is, and emptying it
(engine/cache.py)."""
from __future__ import annotations

import click


@click.command()
@click.option("--clear", is_flag=True, help="Remove every cached policy and unfinished temporary file (no other file) / 清空缓存")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of messages / 消息语言")
def cache(clear, lang):
    """The cache of checked policies: its folder and entries (FUPIN_CACHE_DIR; FUPIN_NO_CACHE=1 turns it off)."""
    from ..engine import cache as stored

    where = stored.folder()
    if clear:
        n, left = stored.clear()
        click.echo(f"已删除 {n} 个已检查的政策和 {left} 个未写完的临时文件：{where}" if lang == "zh"
                   else f"removed {_count(n, 'checked policy', 'checked policies')} and "
                        f"{_count(left, 'unfinished temporary file', 'unfinished temporary files')} from {where}")
        return
    found, left = stored.entries(), stored.leftovers()
    size = sum(_size(p) for p in found)
    state = "" if stored.enabled() else ("（已关闭：FUPIN_NO_CACHE）" if lang == "zh" else " (off: FUPIN_NO_CACHE)")
    if stored.untrusted():
        state += ("（未使用：文件夹不属于当前用户，或他人可写）" if lang == "zh"
                  else " (not used: the folder is not the user's own, or others can write to it)")
    extra = ""
    if left:
        extra = (f"，另有 {len(left)} 个未写完的临时文件（fupin cache --clear 删除）" if lang == "zh"
                 else f", and {_count(len(left), 'unfinished temporary file', 'unfinished temporary files')} "
                    f"(fupin cache --clear removes them)")
    click.echo(f"{where}：{len(found)} 个已检查的政策，{size / 1024:.0f} KiB{extra}{state}" if lang == "zh"
               else f"{where}: {_count(len(found), 'checked policy', 'checked policies')}, {size / 1024:.0f} KiB{extra}{state}")


def _count(n: int, one: str, many: str) -> str:
    """``1 checked policy``, ``2 checked policies``: English needs the number's form."""
    return f"{n} {one if n == 1 else many}"


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
