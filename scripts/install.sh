#!/usr/bin/env bash
# Install bmdkit and everything it needs on a fresh Debian 12 machine.
#   bash scripts/install.sh            # runtime: system packages, .venv, bmdkit
#   bash scripts/install.sh --test     # the same plus the test extras (and Chromium for the review-page test)
#   bash scripts/install.sh --unlocked # (with or without --test) the newest versions pyproject.toml allows
# Python packages come from the committed lock files (requirements/runtime.lock, requirements/test.lock),
# so a new machine gets the versions CI tested; scripts/lock.sh refreshes them.
# Needs root (or sudo) for apt-get. Nothing is downloaded at run time afterwards:
# tesseract's language data comes from Debian, RapidOCR's models ship in its wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
lock="requirements/runtime.lock"
locked=1
apt_pkgs=(python3 python3-venv python3-pip tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim
          poppler-utils fonts-noto-cjk fonts-dejavu-core fonts-liberation libgl1 libglib2.0-0)
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test,dask]"; lock="requirements/test.lock"
            apt_pkgs+=(chromium chromium-driver orthanc orthanc-dicomweb dcmtk) ;;
    --unlocked) locked=0 ;;
    *) echo "install.sh: unknown option $arg (use --test, --unlocked)" >&2; exit 64 ;;
  esac
done

SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if (( locked )); then
  .venv/bin/python -m pip install -q -r "$lock"
  .venv/bin/python -m pip install -q --no-deps -e ".${extras}"
  .venv/bin/python -m pip check
else
  .venv/bin/python -m pip install -q -e ".${extras}"
fi
.venv/bin/bmdkit --version
