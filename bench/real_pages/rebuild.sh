#!/usr/bin/env bash
# Rebuild the real development pages of issue 22 from the public decks.
#
# The decks are not ours to redistribute, so the images are not in the
# repository; this script makes them from a checkout (or a bare mirror) of
# github.com/DXA-Data-Xtraction-Assistant/DXA-Data-Xtraction-Assistant.
#
#   bash bench/real_pages/rebuild.sh SOURCE OUT_DIR
#
# SOURCE: a git directory (bare or not) of that repository, or a directory
# holding the two PDFs. For each deck and slide N this writes
#   OUT_DIR/<deck>-N-screen.png  the slide's embedded screenshot (pdfimages -png)
#   OUT_DIR/<deck>-N-slide.png   the whole slide rendered at 150 dpi (pdftoppm -r 150)
# Only the two development decks are used; the others are kept for judging.
set -euo pipefail
src=${1:?usage: rebuild.sh SOURCE OUT_DIR}
out=${2:?usage: rebuild.sh SOURCE OUT_DIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A decks=(
  [hologic]="Hologic Horizon Apex v 5.5 outputs.pdf"
  [ge]="GE enCORE v 16 outputs.pdf"
)
for deck in "${!decks[@]}"; do
  name=${decks[$deck]}
  if [ -f "$src/$name" ]; then
    cp "$src/$name" "$tmp/$deck.pdf"
  elif [ -f "$src/DXA scan report examples/$name" ]; then
    cp "$src/DXA scan report examples/$name" "$tmp/$deck.pdf"
  else
    git -C "$src" show "HEAD:DXA scan report examples/$name" > "$tmp/$deck.pdf"
  fi
  pdfimages -png "$tmp/$deck.pdf" "$tmp/$deck-img"
  pdftoppm -r 150 -png "$tmp/$deck.pdf" "$tmp/$deck-slide"
  for f in "$tmp/$deck"-img-*.png; do
    n=$(basename "$f" .png); n=$((10#${n##*-} + 1))
    mv "$f" "$out/$deck-$n-screen.png"
  done
  for f in "$tmp/$deck"-slide-*.png; do
    n=$(basename "$f" .png); n=$((10#${n##*-}))
    mv "$f" "$out/$deck-$n-slide.png"
  done
done
ls "$out" | wc -l
