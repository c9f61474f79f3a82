"""The ``bmdkit`` command: registers each command module and maps errors to exit codes.

Exit codes: 0 extracted, 1 flagged, 2 failed, 64 bad usage (EX_USAGE),
70 an internal error or a broken install (EX_SOFTWARE).
Each command lives in its own module with a ``register(app)`` function,
imported plainly when the CLI starts: a module of bmdkit's that cannot be
imported is a broken install, reported as such with exit 70, never a
command silently missing or a result given unchecked.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click
import typer

from bmdkit import __version__

EXIT_USAGE = 64
EXIT_SOFTWARE = 70


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
    "listen",
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
    # library warnings (pydicom's invalid-value notes quote values) go through logging, and every
    # record through the filters that mask identifiers and control characters
    logging.captureWarnings(True)
    from bmdkit.privacy import install_log_filter

    install_log_filter()


_registered: list[str] = []


def register_commands() -> None:
    """Add every command to :data:`app` (once); an import error propagates."""
    if _registered:
        return
    for name in COMMAND_MODULES:
        importlib.import_module(f"bmdkit.cli.{name}").register(app)
        _registered.append(name)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    try:
        register_commands()
    except ImportError as exc:
        traceback.print_exc()
        typer.echo(f"bmdkit is not installed correctly ({type(exc).__name__}: {exc}); "
                   "reinstall it (scripts/install.sh)", err=True)
        return EXIT_SOFTWARE
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
    except Exception as exc:  # noqa: BLE001 - a bug or a broken install: say so, with a code no result uses
        traceback.print_exc()
        typer.echo(f"bmdkit hit an internal error ({type(exc).__name__}); please report it", err=True)
        return EXIT_SOFTWARE
    return result if isinstance(result, int) else 0
