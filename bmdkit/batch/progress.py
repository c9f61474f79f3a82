"""The batch's rich progress bar: files done, rate, time left, failures so far."""

from __future__ import annotations

import sys
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class BatchProgress:
    """Context manager; ``advance(failed)`` once per input name settled."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.failed = 0
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            console=Console(file=sys.stderr),
            disable=not enabled,
            refresh_per_second=4,
        )
        self.task = self.progress.add_task("batch", total=total, failed=0, rate="")

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, failed: bool) -> None:
        if failed:
            self.failed += 1
        if not self.enabled:
            return  # nothing shown: no rate to work out (rich sums its samples on every call)
        t = self.progress.tasks[0]
        speed = t.speed
        rate = f"{speed:.1f} files/s" if speed else ""
        self.progress.update(self.task, advance=1, failed=self.failed, rate=rate)
