"""Settings of the network commands: the listener's TOML config file and remote credentials.

``bmdkit listen --config FILE`` reads a TOML file such as::

    [listen]
    allowed_ae_titles = ["DXA_SITE1", "PACS_CORE"]   # calling AE titles accepted; all others refused
    max_object_bytes = 536870912        # one object (refused with 0xA700 above this)
    max_association_bytes = 8589934592  # all objects of one association (aborted above this)
    max_objects_per_association = 100000
    max_associations = 8                # at the same time
    process_every_s = 5.0               # how soon received objects go through the batch

Credentials for ``bmdkit batch --orthanc`` / ``--dicomweb`` come from the
environment (``BMDKIT_REMOTE_USER`` and ``BMDKIT_REMOTE_PASSWORD``) or from a
TOML file named by ``BMDKIT_REMOTE_CREDENTIALS`` or ``--credentials``
(``username = "…"`` and ``password = "…"``, readable by its owner only),
never from the command line, where every user of the machine could read them.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.errors import ConfigError

USER_ENV = "BMDKIT_REMOTE_USER"
PASSWORD_ENV = "BMDKIT_REMOTE_PASSWORD"
CREDENTIALS_ENV = "BMDKIT_REMOTE_CREDENTIALS"
_MAX_AE = 16


@dataclass(frozen=True)
class ListenConfig:
    """What the storage SCP accepts (see the module docstring for the file format)."""

    allowed_ae_titles: frozenset[str] = field(default_factory=frozenset)
    max_object_bytes: int = 512 * 1024 * 1024
    max_association_bytes: int = 8 * 1024 * 1024 * 1024
    max_objects_per_association: int = 100_000
    max_associations: int = 8
    process_every_s: float = 5.0


def load_listen_config(path: Path | None) -> ListenConfig:
    """The ``[listen]`` table of ``path`` (defaults without a file); ConfigError naming what is wrong."""
    if path is None:
        return ListenConfig()
    table = _load_toml(path).get("listen", {})
    if not isinstance(table, dict):
        raise ConfigError("[listen] must be a table", str(path))
    known = {f for f in ListenConfig.__dataclass_fields__}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"unknown [listen] settings: {', '.join(sorted(unknown))}", str(path))
    titles = table.get("allowed_ae_titles", [])
    if not isinstance(titles, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= _MAX_AE
                                                for t in titles):
        raise ConfigError("allowed_ae_titles must be a list of AE titles (1 to 16 characters)", str(path))
    values: dict[str, Any] = {"allowed_ae_titles": frozenset(t.strip() for t in titles)}
    for name in ("max_object_bytes", "max_association_bytes", "max_objects_per_association", "max_associations"):
        if name in table:
            v = table[name]
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name} must be a positive integer", str(path))
            values[name] = v
    if "process_every_s" in table:
        v = table["process_every_s"]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise ConfigError("process_every_s must be a positive number of seconds", str(path))
        values["process_every_s"] = float(v)
    return ListenConfig(**values)


@dataclass(frozen=True)
class Credentials:
    """A user name and password for HTTP basic authentication (never logged, never shown)."""

    username: str
    password: str = field(repr=False)


def load_credentials(path: Path | None = None) -> Credentials | None:
    """Credentials from ``path``, else the file named in the environment, else the environment, else None."""
    path = path or (Path(os.environ[CREDENTIALS_ENV]) if os.environ.get(CREDENTIALS_ENV) else None)
    if path is not None:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"credentials file cannot be read ({exc.strerror})", str(path)) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError("credentials file is readable by others: chmod 600 it", str(path))
        table = _load_toml(path)
        user, pw = table.get("username"), table.get("password")
        if not isinstance(user, str) or not isinstance(pw, str):
            raise ConfigError("credentials file needs username and password strings", str(path))
        return Credentials(user, pw)
    user = os.environ.get(USER_ENV)
    if user:
        return Credentials(user, os.environ.get(PASSWORD_ENV, ""))
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror})", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", str(path)) from None
