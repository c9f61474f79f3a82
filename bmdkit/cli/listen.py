"""``bmdkit listen --port 11112 --ae-title BMDKIT --out DIR --config listen.toml``: a DICOM storage node.

Receives objects by C-STORE (see :mod:`bmdkit.network.scp`), stores them under
``DIR/received`` and processes them into ``DIR`` with the same batch, state and
outputs as ``bmdkit batch``. Runs until SIGTERM or Ctrl-C, then stops taking
associations, lets open ones finish (``--grace`` seconds), lets the current
processing run finish within the same grace or leaves it to the next start.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bmdkit.cli.common import out_option
from bmdkit.errors import ConfigError
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.privacy import install_log_filter
from bmdkit.terminal import markup

EXIT_CONFIG = 64
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: the port cannot be bound


def listen(
    out: Path = out_option(..., "Output folder: received objects, state and results."),
    port: int = typer.Option(11112, "--port", min=1, max=65535, help="TCP port to listen on."),
    ae_title: str = typer.Option("BMDKIT", "--ae-title", help="This node's AE title (1 to 16 characters)."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on (default loopback only; 0.0.0.0 for every interface)."),
    config: Path | None = typer.Option(None, "--config",
                                       help="TOML file: allowed calling AE titles and size limits ([listen])."),
    workers: int | None = typer.Option(None, "--workers", "-j", min=1, help="Worker processes (default: all cores)."),
    timeout: float = typer.Option(DEFAULT_OPTIONS.timeout_s, "--timeout", help="Seconds per file before it fails."),
    grace: float = typer.Option(30.0, "--grace", min=0, help="Seconds to finish in-flight work after SIGTERM."),
) -> int:
    """Receive DICOM objects by C-STORE and process them like `bmdkit batch` (runs until SIGTERM)."""
    from bmdkit.network.config import load_listen_config
    from bmdkit.network.process import ReceivedProcessor
    from bmdkit.network.scp import StorageSCP
    from bmdkit.network.store import ObjectStore

    install_log_filter()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    title = ae_title.strip()
    if not 0 < len(title) <= 16 or not title.isascii() or "\\" in title:
        console.print("[red]--ae-title must be 1 to 16 ASCII characters[/red]")
        return EXIT_CONFIG
    try:
        cfg = load_listen_config(config)
        if not cfg.allowed_ae_titles:
            raise ConfigError("no calling AE title is allowed, so every sender would be refused: list them "
                              "in a config file ([listen] allowed_ae_titles) given with --config")
        store = ObjectStore(out)
    except ConfigError as exc:
        console.print(f"[red]{markup(exc)}[/red]")
        return EXIT_CONFIG
    logging.getLogger("bmdkit.network").setLevel(min(logging.INFO, logging.getLogger("bmdkit").getEffectiveLevel()))
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install_log_filter()
    options = replace(DEFAULT_OPTIONS, timeout_s=timeout)
    processor = ReceivedProcessor(store.root, store.out, every_s=cfg.process_every_s, workers=workers,
                                  options=options)
    scp = StorageSCP(store, title, cfg, processor)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            scp.start(host, port)
        except OSError as exc:
            console.print(f"[red]cannot listen on {markup(host)}:{port} ({markup(exc.strerror or exc)})[/red]")
            return EXIT_UNAVAILABLE
        processor.start()
        console.print(f"listening on {markup(host)}:{port} as {markup(title)}; storing into "
                      f"{markup(os.fsdecode(store.root))}")
        while not stop.wait(1.0):
            pass
        console.print("stopping: no new associations; finishing what is in flight")
        aborted = scp.stop(grace)
        finished = processor.stop(grace)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    _print_figures(console, scp.tally, processor.tally, aborted)
    if not finished:
        console.print("processing was interrupted; the files in flight are processed on the next start")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(0)  # the batch thread's pool must not hold the exit; its state is committed per file
    return 0


def _print_figures(console: Console, rec: Any, proc: Any, aborted: int) -> None:
    """Totals for this run: objects stored (and per second while receiving), processed, refused."""
    span = (rec.last - rec.first) if rec.first is not None and rec.last is not None else 0.0
    rate = f", {rec.stored / span:.1f} objects/s" if span > 0 and rec.stored > 1 else ""
    prate = f", {proc.processed / proc.seconds:.2f} files/s" if proc.seconds > 0 and proc.processed else ""
    console.print(f"received {rec.stored} objects ({rec.duplicates} duplicates, {rec.refused} refused, "
                  f"{aborted} associations aborted at stop){rate}; processed {proc.processed} files in "
                  f"{proc.seconds:.1f} s{prate}")


def register(app: typer.Typer) -> None:
    app.command("listen")(listen)
