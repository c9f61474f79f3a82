"""The ``bmdkit`` command: registers each command module and maps errors to exit codes.

Exit codes: 0 extracted, 1 flagged, 2 failed, 64 bad usage (EX_USAGE).
Each command lives in its own module with a ``register(app)`` function;
a command whose module is not present is simply not offered.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click
import typer

from bmdkit import __version__

EXIT_USAGE = 64


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """``name`` from click and from the copy of click newer typer releases vendor."""
    found: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        from typer._click import exceptions as vendored
    except ImportError:
        vendored = None
    if vendored is not None and hasattr(vendored, name):
        found.append(getattr(vendored, name))
    return tuple(found)


_USAGE_ERRORS = _click_classes("UsageError")
_CLICK_ERRORS = _click_classes("ClickException")
_EXITS = (click.exceptions.Exit, typer.Exit)
_ABORTS = (click.exceptions.Abort, typer.Abort)

COMMAND_MODULES: tuple[str, ...] = (
    "check", "batch", "export", "reconcile", "eligibility", "change", "harmonize", "review", "decisions",
)

app = typer.Typer(
    name="bmdkit",
    help="Bone densitometry (DXA) scans and reports into trustworthy numbers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bmdkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."),
) -> None:
    """Bone densitometry (DXA) scans and reports into trustworthy numbers."""
    level = logging.WARNING - 10 * min(verbose, 2)
    # -v/-vv raise bmdkit's own loggers only: libraries' debug logs (pdfminer, pydicom) echo
    # file content, patient names included
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("bmdkit").setLevel(level)


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"bmdkit.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"bmdkit.cli.{_name}":
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="bmdkit", standalone_mode=False)
    except _USAGE_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        return EXIT_USAGE
    except _ABORTS:
        typer.echo("Aborted.", err=True)
        return 130
    except _EXITS as exc:
        return int(exc.exit_code)  # type: ignore[attr-defined]
    except _CLICK_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        return EXIT_USAGE
    return result if isinstance(result, int) else 0
