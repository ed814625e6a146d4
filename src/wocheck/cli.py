"""The `wocheck` command: parse, call `wocheck.api`, map errors to exit codes. Nothing else."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from wocheck import __version__
from wocheck.errors import ExitCode, WocheckError
from wocheck.records import Slot

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="wocheck: work-order photo and record compliance checker (rulebook clauses 42-50).")


class Lang(StrEnum):
    zh = "zh"
    en = "en"


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


class PenaltyFormat(StrEnum):
    csv = "csv"
    json = "json"


_state = {"verbose": False}

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Company config (TOML); default models/config.toml.",
                                                 dir_okay=False)]


def _config(path: Path | None):  # type: ignore[no-untyped-def]
    from wocheck.config import load_config

    return load_config(path)


def _fail(e: WocheckError) -> typer.Exit:
    typer.echo(f"wocheck: {e}", err=True)
    if _state["verbose"]:
        import traceback

        traceback.print_exception(e, file=sys.stderr)
    return typer.Exit(code=int(e.exit_code))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wocheck {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details and show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Check closed work orders' records and photos against the rulebook (clauses 42-50)."""
    _state["verbose"] = verbose
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def check(
    order: Annotated[Path, typer.Argument(help="The order record (JSON file).", dir_okay=False)],
    photos: Annotated[Path | None, typer.Option("--photos", help="Photo root; default the order file's folder.",
                                                file_okay=False)] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="text for people, json for programs.")] =
    CheckFormat.text,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the messages.")] = Lang.zh,
    config: ConfigOpt = None,
) -> None:
    """The engineer's self-check before closing an order: every finding with what to do."""
    from wocheck import api
    from wocheck.report.selfcheck import render_json, render_text

    try:
        res = api.check_order(order, photo_root=photos, cfg=_config(config))
    except WocheckError as e:
        raise _fail(e) from None
    typer.echo(render_json(res) if fmt == CheckFormat.json else render_text(res, lang.value))
    raise typer.Exit(code=int(res.exit_code))


@app.command()
def scan(
    orders: Annotated[Path, typer.Argument(help="The night's orders (JSON Lines).", dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", help="Output folder.", file_okay=False)],
    photos: Annotated[Path | None, typer.Option("--photos", help="Photo root; default the orders file's folder.",
                                                file_okay=False)] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", dir_okay=False,
        help="History kept across nights: a SQLite file, or postgresql://USER@HOST/DB for several machines; "
             "default $WOCHECK_DB, else ~/.local/share/wocheck/history.sqlite.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Worker processes; 0 = all cores.")] = 0,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="ADDRESS|local",
        help="Run the checks on a Dask cluster: a scheduler address (tcp://HOST:8786), or 'local' to start "
             "--workers Dask worker processes here. Every worker must see the photos at the same --photos "
             "path. Needs the 'cluster' extra (pip install 'wocheck[cluster]').")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    config: ConfigOpt = None,
) -> None:
    """The nightly batch: violations.jsonl, input_errors.jsonl, summary.csv and report/index.html in OUT."""
    from wocheck import api
    from wocheck.pipeline.executor import default_workers
    from wocheck.pipeline.scan import ScanSettings

    settings = ScanSettings(orders_path=orders, photo_root=photos or orders.resolve().parent, out_dir=out,
                            workers=workers or default_workers(), db_path=db, cluster=cluster,
                            progress=not quiet and sys.stderr.isatty())
    try:
        summary = api.scan(settings, _config(config))
    except WocheckError as e:
        raise _fail(e) from None
    if not quiet:
        for line in summary.lines():
            typer.echo(line, err=True)
    raise typer.Exit(code=int(api.scan_exit_code(summary)))


@app.command()
def inspect(
    photo: Annotated[list[Path], typer.Argument(help="Photo file(s).", dir_okay=False)],
    slot: Annotated[Slot, typer.Option("--slot", help="Which slot the photo is for.")],
    fmt: Annotated[CheckFormat, typer.Option("--format", help="json (one object a line) or text.")] =
    CheckFormat.json,
    annotate: Annotated[Path | None, typer.Option(
        "--annotate", help="Draw what was found: a .png/.jpg file for one photo, a folder for several.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Each photo's measurements and findings (JSON, one object a line)."""
    from wocheck import api

    try:
        docs = api.inspect_photos(photo, slot, cfg=_config(config), annotate=annotate)
    except WocheckError as e:
        raise _fail(e) from None
    for doc in docs:
        if fmt == CheckFormat.json:
            typer.echo(json.dumps(doc, ensure_ascii=False))
        else:
            typer.echo(f"{doc['photo']}: {len(doc['findings'])} finding(s)")
            for f in doc["findings"]:
                typer.echo(f"  [{f['clause']} {f['verdict']}] {f['message_zh']}")
    if any(not d.get("readable", True) for d in docs):
        raise typer.Exit(code=int(ExitCode.bad_input))
    raise typer.Exit(code=int(ExitCode.findings if any(d["findings"] for d in docs) else ExitCode.ok))


@app.command()
def penalty(
    violations: Annotated[Path, typer.Argument(help="Violation records (JSON Lines), any department.",
                                               dir_okay=False)],
    month: Annotated[str | None, typer.Option("--month", help="Month to sum, YYYY-MM (of closed_at, local time); "
                                                              "default every month present.")] = None,
    fmt: Annotated[PenaltyFormat, typer.Option("--format", help="csv (one row per party and month) or json "
                                                                "(one object per month, one a line).")] =
    PenaltyFormat.csv,
    decisions: Annotated[Path | None, typer.Option("--decisions", help="Reviewer decisions (JSON Lines).",
                                                   dir_okay=False)] = None,
    charges_csv: Annotated[Path | None, typer.Option("--charges-csv", help="Also write one CSV row per charge "
                                                                           "to this file.", dir_okay=False)] = None,
) -> None:
    """Fines per contractor, engineer and manager from the rulebook's table (clauses 1-92)."""
    from wocheck import api
    from wocheck.io.writers import write_text_atomic
    from wocheck.penalty.calculator import charges_to_csv, render_json_lines, report_to_csv

    try:
        report = api.penalty(violations, month=month, decisions_path=decisions)
    except WocheckError as e:
        raise _fail(e) from None
    typer.echo(render_json_lines(report) if fmt == PenaltyFormat.json else report_to_csv(report), nl=False)
    if charges_csv is not None:
        write_text_atomic(charges_csv, charges_to_csv(report))
    for note in report.notes:
        typer.echo(f"wocheck: note: {note}", err=True)
    for rej in report.rejected:
        typer.echo(f"wocheck: record rejected: {rej}", err=True)
    raise typer.Exit(code=int(report.exit_code))


def main() -> None:
    try:
        app()
    except Exception as e:  # a bug, not the user's input: still never exit 1, which means "findings"
        logging.getLogger("wocheck").critical("internal error: %s", e, exc_info=_state["verbose"])
        typer.echo(f"wocheck: internal error: {type(e).__name__}: {e} (run with -v for the traceback)", err=True)
        sys.exit(int(ExitCode.bad_input))


if __name__ == "__main__":  # pragma: no cover
    main()
