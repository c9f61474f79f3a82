"""Site configuration: the trial's centers, their scanners and precision, and scan-to-scanner matching.

The configuration is a TOML file (see ``samples/config/sites.example.toml``)::

    [[centers]]
    id = "beijing"
    name = "Peking Union Medical College Hospital"
    aliases = ["北京协和医院"]          # institution names as printed or in DICOM

      [[centers.scanners]]
      id = "bj-1"
      vendor = "hologic"               # hologic | ge_lunar | norland
      model = "Horizon A"
      serial = "300512"                 # optional; DICOM DeviceSerialNumber
      in_service_from = 2024-01-01      # optional
      in_service_to = 2026-06-30        # optional
      precision_pct = { "L1-L4" = 1.1, total_hip = 1.0, femoral_neck = 1.7 }
      service_dates = [2026-05-10]      # optional; service or recalibration: phantom baseline restarts

    [[phantoms]]                        # optional; nominal values from the phantom's certificate
    id = "ESP-0123"
    nominal_bmd = 1.000

    [calibration]                       # optional
    reference = "nominal"               # or the id of a reference scanner

A scan is matched by everything it tells: serial number (DICOM), vendor,
model text, institution (report or DICOM) and exam date against each
scanner's dates in service. A scanner is a candidate when nothing the scan
tells contradicts it; one candidate is a match, several are ambiguous and
none is unmatched — both unmatched cases are flagged, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmdkit.errors import ConfigError
from bmdkit.model import Exam, Vendor

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Scanner:
    """One DXA machine at one center."""

    id: str
    center_id: str
    vendor: Vendor
    model: str = ""
    serial: str = ""
    in_service_from: dt.date | None = None
    in_service_to: dt.date | None = None
    precision_pct: Mapping[str, float] = field(default_factory=dict)
    service_dates: tuple[dt.date, ...] = ()

    def in_service(self, day: dt.date | None) -> bool:
        if day is None:
            return True
        if self.in_service_from and day < self.in_service_from:
            return False
        return not (self.in_service_to and day > self.in_service_to)


@dataclass(frozen=True)
class Center:
    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    scanners: tuple[Scanner, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Institution names that identify this center (the id is a label, not a name)."""
        return tuple(n for n in (self.name, *self.aliases) if n)


@dataclass(frozen=True)
class SiteConfig:
    centers: tuple[Center, ...]
    phantom_nominal: Mapping[str, float] = field(default_factory=dict)
    calibration_reference: str = "nominal"

    @property
    def scanners(self) -> tuple[Scanner, ...]:
        return tuple(s for c in self.centers for s in c.scanners)

    def scanner(self, scanner_id: str) -> Scanner | None:
        return next((s for s in self.scanners if s.id == scanner_id), None)

    def center(self, center_id: str) -> Center | None:
        return next((c for c in self.centers if c.id == center_id), None)


@dataclass(frozen=True)
class ScannerMatch:
    """Which scanner a scan came from, how that was decided, or why it could not be."""

    scanner: Scanner | None
    how: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.scanner is not None


def norm_text(text: str | None) -> str:
    """Lower-case letters and digits only (NFKC first, so full-width forms match)."""
    if not text:
        return ""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: not an ISO date: {value!r}") from exc


def _vendor(value: Any, where: str) -> Vendor:
    try:
        return Vendor(str(value).strip().lower())
    except ValueError as exc:
        raise ConfigError(f"{where}: unknown vendor {value!r} (use {[v.value for v in Vendor]})") from exc


def parse_sites(data: Mapping[str, Any], origin: str = "<sites>") -> SiteConfig:
    """Build a :class:`SiteConfig` from parsed TOML, checking ids and dates."""
    centers: list[Center] = []
    seen: set[str] = set()
    for ci, c in enumerate(data.get("centers") or []):
        cid = str(c.get("id") or "").strip()
        if not cid:
            raise ConfigError(f"centers[{ci}] has no id", origin)
        scanners = []
        for si, s in enumerate(c.get("scanners") or []):
            where = f"centers[{ci}].scanners[{si}]"
            sid = str(s.get("id") or "").strip()
            if not sid or sid in seen:
                raise ConfigError(f"{where}: missing or duplicate scanner id {sid!r}", origin)
            seen.add(sid)
            prec = {str(k): float(v) for k, v in (s.get("precision_pct") or {}).items()}
            sc = Scanner(
                id=sid, center_id=cid, vendor=_vendor(s.get("vendor", "unknown"), where),
                model=str(s.get("model") or ""), serial=str(s.get("serial") or ""),
                in_service_from=_date(s.get("in_service_from"), where),
                in_service_to=_date(s.get("in_service_to"), where), precision_pct=prec,
                service_dates=tuple(sorted(
                    d for d in (_date(v, where) for v in s.get("service_dates") or ()) if d is not None)),
            )
            if sc.in_service_from and sc.in_service_to and sc.in_service_to < sc.in_service_from:
                raise ConfigError(f"{where}: in_service_to before in_service_from", origin)
            scanners.append(sc)
        centers.append(Center(id=cid, name=str(c.get("name") or ""),
                              aliases=tuple(str(a) for a in c.get("aliases") or ()), scanners=tuple(scanners)))
    phantoms: dict[str, float] = {}
    for pi, p in enumerate(data.get("phantoms") or []):
        pid = str(p.get("id") or "").strip()
        if not pid or "nominal_bmd" not in p:
            raise ConfigError(f"phantoms[{pi}] needs id and nominal_bmd", origin)
        phantoms[pid] = float(p["nominal_bmd"])
    ref = str((data.get("calibration") or {}).get("reference") or "nominal")
    cfg = SiteConfig(centers=tuple(centers), phantom_nominal=phantoms, calibration_reference=ref)
    if ref != "nominal" and cfg.scanner(ref) is None:
        raise ConfigError(f"calibration.reference {ref!r} is neither 'nominal' nor a scanner id", origin)
    return cfg


def load_sites(path: Path) -> SiteConfig:
    """Read and check a site configuration TOML file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError("site configuration larger than 1 MiB", str(path))
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read site configuration: {exc}", str(path)) from exc
    return parse_sites(data, str(path))


MIN_NAME_CHARS = 4  # shorter fragments ("医院", "hosp") would match any center


def _center_fits(center: Center, institution: str | None) -> bool:
    """True when the institution text names this center (or says nothing)."""
    inst = norm_text(institution)
    if not inst:
        return True
    for name in map(norm_text, center.names()):
        if name == inst:
            return True
        if min(len(name), len(inst)) >= MIN_NAME_CHARS and (name in inst or inst in name):
            return True
    return False


def _model_score(scanner: Scanner, model: str | None) -> int:
    """2 exact, 1 one name contains the other, 0 contradicts; unknown text fits (1)."""
    a, b = norm_text(scanner.model), norm_text(model)
    if not a or not b:
        return 1
    if a == b:
        return 2
    return 1 if (a in b or b in a) else 0


def match_scanner(exam: Exam, config: SiteConfig, center_hint: str | None = None) -> ScannerMatch:
    """The configured scanner ``exam`` was taken on, or the reason none (or several) fit.

    ``center_hint`` (e.g. the center a batch folder belongs to) narrows the
    search when the file names no institution.
    """
    serial = norm_text(exam.scanner_serial)
    candidates: list[tuple[int, Scanner]] = []
    for center in config.centers:
        if center_hint and center.id != center_hint:
            continue
        if not _center_fits(center, exam.institution):
            continue
        for s in center.scanners:
            if exam.vendor is not Vendor.UNKNOWN and s.vendor is not exam.vendor:
                continue
            if serial and s.serial and norm_text(s.serial) != serial:
                continue
            score = _model_score(s, exam.scanner_model)
            if score == 0 or not s.in_service(exam.exam_date):
                continue
            if serial and s.serial:
                score += 10
            candidates.append((score, s))
    if not candidates:
        return ScannerMatch(None, reason="no configured scanner fits the scan's serial, vendor, model, "
                                         "institution and date")
    best = max(sc for sc, _ in candidates)
    top = [s for sc, s in candidates if sc == best]
    if len(top) > 1:
        return ScannerMatch(None, reason=f"ambiguous: {len(top)} configured scanners fit "
                                         f"({', '.join(s.id for s in top)})")
    how = "serial" if best >= 10 else ("model" if best == 2 else "site and vendor")
    if exam.exam_date is None:
        how += " (no exam date)"
    return ScannerMatch(top[0], how=how)
