"""``fupin serve POLICY``: the HTTP service and the workbench (web/), on uvicorn.

Arguments and printing only: the application is :func:`fupin.web.app.create_app`.
"""
from __future__ import annotations

import logging
import os
import sys

import click

from ..dsl.errors import FupinError, render_all


@click.command()
@click.argument("policy", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback needs --token-file / 绑定地址（非本机须有令牌）")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-file", default=None, type=click.Path(dir_okay=False),
              help="File holding the token every request must carry / 令牌文件")
@click.option("--reload", "reload_", is_flag=True,
              help="Reload the pack when its files change (errors keep the previous pack) / 规则文件变动时重新加载")
@click.option("--allow-edit", is_flag=True, help="The workbench may write rule files into POLICY / 允许在网页中保存规则文件")
@click.option("--decision-log", default=None, type=click.Path(dir_okay=False),
              help="Append one JSON line per decision, personal fields masked / 决策日志（JSONL）")
@click.option("--work-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for uploads and job results (default: a temporary folder) / 任务文件夹")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each loads the pack; /metrics sums them all) / 工作进程数")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of a request that names none / 默认语言")
def serve(policy, host, port, token_file, reload_, allow_edit, decision_log, work_dir, workers, lang):
    """Serve the policy over HTTP: the /v1 API (OpenAPI at /openapi.json, docs at /docs)
    and the workbench pages."""
    import uvicorn

    from ..web.app import create_app
    from ..web.config import ServeConfig, check_bind, read_token

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if workers > 1 and work_dir is None:
        import tempfile

        work_dir = tempfile.mkdtemp(prefix="fupin-serve-")  # one folder for all workers: any answers for a job
    try:
        token = read_token(token_file) if token_file else None
        config = ServeConfig(policy=os.path.abspath(policy), host=host, port=port, token=token, reload=reload_,
                             allow_edit=allow_edit, decision_log=decision_log, work_dir=work_dir, lang=lang)
        check_bind(config)
        app = create_app(config) if workers == 1 else None
    except FupinError as exc:
        click.echo(render_all(exc.diagnostics, lang), err=True)
        sys.exit(1)
    # uvicorn's own access log prints query strings; ours (fupin.access) prints paths only
    if app is not None:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
    else:
        _run_workers(uvicorn, config, workers)


def _run_workers(uvicorn, config, workers: int) -> None:
    """``workers`` uvicorn processes on one port; their metrics meet in a private folder
    of this run (a scrape reaches any one worker, which answers for all), removed at exit."""
    import dataclasses
    import shutil
    import tempfile

    from ..web.config import ENV

    shared = tempfile.mkdtemp(prefix="fupin-metrics-")
    try:
        os.environ[ENV] = dataclasses.replace(config, metrics_dir=shared).to_env()
        uvicorn.run("fupin.web.app:from_env", factory=True, host=config.host, port=config.port,
                    workers=workers, access_log=False, log_level="info")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
