"""Stage 4b: the numbers under a header, clustered into columns and matched to the header's.

Layout-free: no template per vendor. The numeric tokens of a table's rows are
clustered by horizontal overlap (right-, left- or centre-aligned numbers of one
column overlap each other; numbers of different columns do not), and the
clusters are matched to the header's :class:`~bmdkit.report.cells.Column` s in order.
"""

from __future__ import annotations

from bmdkit.report.cells import Column
from bmdkit.report.tokens import Token


def clusters(tokens: list[Token]) -> list[list[Token]]:
    """Group numeric tokens into columns: connected by horizontal overlap."""
    spans: list[list[Token]] = []
    for t in sorted(tokens, key=lambda t: t.box[0]):
        if spans and t.box[0] <= max(x.box[2] for x in spans[-1]) - 1:
            spans[-1].append(t)
        else:
            spans.append([t])
    return spans


def _assign(groups: list[list[Token]], cols: list[Column]) -> dict[int, int]:
    """Map cluster index -> column index, one cluster per column at most.

    Equal counts map in order; otherwise clusters and headers are paired
    greedily by horizontal overlap, then by distance; a cluster left over
    (a column whose header was not recognized) stays unplaced.
    """
    data_cols = [i for i, (k, _, _) in enumerate(cols) if k != "region"]
    if len(groups) == len(data_cols):
        return {ci: data_cols[ci] for ci in range(len(groups))}
    pairs = []
    for ci, cl in enumerate(groups):
        a = min(t.box[0] for t in cl)
        b = max(t.box[2] for t in cl)
        for j in data_cols:
            _, h0, h1 = cols[j]
            ov = min(b, h1) - max(a, h0)
            gap = max(h0 - b, a - h1, 0)
            dist = abs((a + b) / 2 - (h0 + h1) / 2)
            pairs.append(((-max(ov, 0), gap, dist), ci, j))
    pairs.sort()
    out: dict[int, int] = {}
    used: set[int] = set()
    for (neg_ov, gap, _), ci, j in pairs:
        if ci in out or j in used:
            continue
        width = cols[j][2] - cols[j][1]
        if neg_ov == 0 and gap > 1.5 * max(width, 1):
            continue
        out[ci] = j
        used.add(j)
    return out


def _nearest_column(t: Token, cols: list[Column]) -> int | None:
    """The data column nearest a token: by gap, then by distance to its centre."""
    best, best_score = None, None
    for j, (k, h0, h1) in enumerate(cols):
        if k == "region":
            continue
        gap = max(h0 - t.box[2], t.box[0] - h1, 0)
        score = (gap, abs(t.xc - (h0 + h1) / 2))
        if best_score is None or score < best_score:
            best, best_score = j, score
    return best


def columns_of(rows: list[list[Token]], cols: list[Column]) -> dict[int, int]:
    """token id -> column index, for the numeric tokens of the labelled rows.

    Clusters by overlap first; a cluster holding two tokens of one row is a
    merge of columns (a stray wide token bridged them), so its tokens fall
    back to the nearest header one by one.
    """
    row_of = {id(t): i for i, vals in enumerate(rows) for t in vals}
    groups = clusters([t for vals in rows for t in vals])
    good = [cl for cl in groups if len({row_of[id(t)] for t in cl}) == len(cl)]
    bad = [t for cl in groups if len({row_of[id(t)] for t in cl}) != len(cl) for t in cl]
    out: dict[int, int] = {}
    mapping = _assign(good, cols) if len(good) == len(groups) else {}
    if mapping:
        for ci, cl in enumerate(good):
            if ci in mapping:
                for t in cl:
                    out[id(t)] = mapping[ci]
    else:
        for cl in good:
            j = _assign_one(cl, cols)
            if j is not None:
                for t in cl:
                    out[id(t)] = j
    for t in bad:
        j = _nearest_column(t, cols)
        if j is not None:
            out[id(t)] = j
    return out


def _assign_one(cl: list[Token], cols: list[Column]) -> int | None:
    """The column one cluster goes to, if any."""
    return _assign([cl], cols).get(0)
