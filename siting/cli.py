"""The ``siting`` command: a thin click layer over the library.

Every subcommand calls the library. Errors print one paragraph on stderr and
exit non-zero (1 for siting errors, 2 for usage errors) without a traceback;
``-vv`` shows the traceback for unexpected errors.

Examples
--------
>>> main(["--version"])
Traceback (most recent call last):
...
SystemExit: 0
"""

from __future__ import annotations

import logging
import sys
import textwrap
import warnings

import click

from siting import __version__
from siting.cli_data import data
from siting.core import settings
from siting.core.errors import SitingError, SitingWarning

log = logging.getLogger("siting")


class _Said(logging.Filter):
    """Remembers the messages the handler wrote, so a warning that repeats one is not written again."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.add(record.getMessage())
        return True


def _show_warnings_as_lines(said: _Said) -> None:
    """Show a :class:`SitingWarning` as one ``WARNING siting: ...`` line (no file name or source line, which
    mean nothing to a command-line user), and not at all when the log already said the same."""
    default = getattr(warnings.showwarning, "shown_by", warnings.showwarning)  # once, however many commands run

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, SitingWarning):
            return default(message, category, filename, lineno, file, line)
        if str(message) not in said.messages:
            log.warning("%s", message)

    show.shown_by = default  # type: ignore[attr-defined]
    warnings.showwarning = show


def _setup_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING + 10 * (quiet - verbose)
    level = max(logging.DEBUG, min(logging.CRITICAL, level))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    said = _Said()
    handler.addFilter(said)
    _show_warnings_as_lines(said)
    root = logging.getLogger("siting")
    root.handlers = [h for h in root.handlers if isinstance(h, logging.NullHandler)] + [handler]
    root.setLevel(level)
    # no terminal (a pipe, a log file, CI): no bar, so one line per step instead; -q silences both
    steps = logging.getLogger("siting.steps")
    steps.setLevel(logging.INFO if quiet == 0 and not sys.stderr.isatty() else logging.NOTSET)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="siting")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", count=True, help="Less log output (-q errors only).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Find, filter, score and map sites for critical-mineral processing on federal land."""
    _setup_logging(verbose, quiet)
    if quiet:
        settings.set_progress(False)  # -q: no bar anywhere (steps, packing curves, weight draws)
        warnings.filterwarnings("ignore", category=SitingWarning)  # and, as its help says, errors only
    ctx.obj = {"verbose": verbose}


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder (created; must be empty unless --overwrite).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars per step (default: on in a terminal, off with -q; without a terminal one "
                   "log line per step).")
@click.option("--offline-map", is_flag=True, default=None,
              help="map.html without even the optional web-tiles layer (it never makes a request).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="dask: screening and factors partitioned on a dask.distributed cluster (siting[dask]).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: a running scheduler (tcp://host:8786); default a local 2-worker cluster.")
@click.option("--fetch", "fetch", is_flag=True,
              help="Fetch `fetch:` layers missing from the cache (siting data); without it they are an error.")
def run(scenario: str, out_dir: str, overwrite: bool, progress: bool | None, offline_map: bool | None,
        engine: str, scheduler: str | None, fetch: bool) -> None:
    """Run SCENARIO and write sites.geojson, siting.gpkg, map.html, funnel.csv and run.json."""
    from siting.core.pipeline import run as run_pipeline
    from siting.core.scenario import load_scenario
    from siting.deliver.folder import check_output_dir, output_lock
    from siting.fetch.scenario import resolve_fetches

    sc = resolve_fetches(load_scenario(scenario), fetch_missing=fetch)
    inputs = [sc.resolve(s.path) for n in sc.layers for s in sc.layer_specs(n)]
    inputs += [sc.resolve(r.path) for r in sc.rasters.values()]
    check_output_dir(out_dir, overwrite=overwrite, inputs=inputs)  # fail before doing any work
    with output_lock(out_dir):  # a second run on the same folder fails now, naming this one
        if progress is not None:
            settings.set_progress(progress)  # every bar of the run, not only the steps'
        result = run_pipeline(sc, engine=engine, scheduler=scheduler, progress=progress)
        out = result.save(out_dir, overwrite=overwrite, offline_map=offline_map)
    s = result.summary()
    click.echo(f"{s['sites']:,} sites covering {s['site_acres']:,.0f} acres ({s['eligible_acres']:,.0f} of "
               f"{s['input_acres']:,.0f} input acres eligible) -> {out}")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def validate(scenario: str) -> None:
    """Check SCENARIO and every layer it reads (CRS, fields, geometries, sentinels, ids) without running it."""
    from siting.core.checks import check_scenario
    from siting.core.scenario import load_scenario
    from siting.fetch.scenario import resolve_fetches

    sc = resolve_fetches(load_scenario(scenario))  # a `fetch:` layer not in the cache is an error naming the fix
    report = check_scenario(sc)
    if report.problems or report.layers:
        click.echo(report.format())
    if report.errors:
        raise SitingError(f"scenario {sc.name!r} has {len(report.errors)} error(s); see above")
    click.echo(f"scenario {sc.name!r} is valid: {len(sc.layers)} layers, {len(sc.rasters)} rasters, "
               f"{len(sc.constraints)} constraints, {len(sc.factors)} factors "
               f"({len(report.problems)} warning(s))")


@cli.command(name="map")
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--static", "static_path", required=True, type=click.Path(dir_okay=False),
              help="Output .png or .pdf (300 dpi).")
@click.option("--title", default=None, help="Map title (default: the scenario's).")
@click.option("--dpi", default=300, show_default=True, type=int)
@click.option("--top", default=None, type=int, help="Draw only the best N sites.")
def map_command(result_dir: str, static_path: str, title: str | None, dpi: int, top: int | None) -> None:
    """Draw a static map (PNG or PDF) of a result folder: legend, scale bar, north arrow, sources."""
    from siting.core.saved import load_result
    from siting.deliver.static import static_map

    click.echo(static_map(load_result(result_dir), static_path, title=title, dpi=dpi, top=top))


@cli.command()
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False))
def report(result_dir: str) -> None:
    """Write RESULT_DIR/report.html: summary, funnel, top sites, maps, sensitivity, repairs, rejects."""
    from siting.core.saved import load_result
    from siting.deliver.report import write_report

    click.echo(write_report(load_result(result_dir)))


@cli.command()
@click.argument("result_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--top", default=20, show_default=True, type=int, help="Sheets for the best N sites.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Folder for the sheets (default: RESULT_DIR/sheets).")
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="Also print each sheet to PDF (Chromium).")
def sheets(result_dir: str, top: int, out_dir: str | None, pdf: bool) -> None:
    """Write one fact sheet per site (HTML and PDF): maps, land status, rules, factors, infrastructure, deposits."""
    from siting.core.saved import load_result

    pages = load_result(result_dir).sheets(out_dir, top=top, pdf=pdf)
    click.echo(f"{len(pages)} fact sheets -> {pages[0].parent if pages else out_dir or result_dir}")


cli.add_command(data)


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--layer", default=None, help="Only this layer of a multi-layer file.")
@click.option("--source", default=None, help="Force a source adapter instead of detecting it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info(path: str, layer: str | None, source: str | None, as_json: bool) -> None:
    """What PATH is: detected source, layers, CRS, feature count, fields mapped and unmapped."""
    import json

    from siting.io.info import describe, format_info

    desc = describe(path, layer=layer, source=source)
    click.echo(json.dumps(desc, indent=2, default=str) if as_json else format_info(desc))


def main(argv=None) -> None:
    """Entry point: run the click group, turning errors into one paragraph and an exit code.

    An unexpected error shows its traceback when the verbosity option asks for it (``-vv``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    ctx = None
    try:
        with cli.make_context("siting", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SitingError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # unexpected: still no traceback unless -vv
        if ctx is not None and ctx.params.get("verbose", 0) >= 2:
            raise
        msg = textwrap.shorten(f"{type(exc).__name__}: {exc}", 600)
        click.echo(f"internal error: {msg} (run with -vv for the traceback and report it)", err=True)
        sys.exit(3)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
