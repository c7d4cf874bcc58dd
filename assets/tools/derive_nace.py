#!/usr/bin/env python3
"""Derive assets/nace_rev2.csv from the Eurostat NACE Rev. 2 exports.

Usage:
    python3 assets/tools/derive_nace.py DATA_DIR [-o OUTPUT]

DATA_DIR holds the Eurostat exports NACE_REV2_en.csv, NACE_REV2_fr.csv and
NACE_REV2_de.csv (as shipped in the Odoo module l10n_eu_nace 14.0.1.0.1), and
optionally nace_rev2_codes.csv from the same module, used as a cross-check.
OUTPUT defaults to nace_rev2.csv in the assets folder next to this script.

Output columns: code,level,name_en,name_fr,name_de. One row per NACE item of
levels 1-4 (sections, divisions, groups, classes), in Eurostat's order.

The header rows of the exports do not describe their rows (the English file's
header has 11 names for rows of 8 fields; the French and German headers have 8
names for rows of 11 fields), so the header row is skipped and the first three
fields of each row are read by position: level, code, description.

Names are copied verbatim except that leading and trailing whitespace is
removed (Eurostat's text has trailing spaces on some items and a leading space
on two French ones). Nothing else is changed: apostrophes, dashes and
capitalisation are Eurostat's.

Python 3 standard library only. Exits non-zero if the inputs disagree.
"""

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

LANGS = ("en", "fr", "de")
CODE_PATTERN = {
    1: re.compile(r"[A-Z]"),          # section, e.g. A
    2: re.compile(r"\d{2}"),          # division, e.g. 01
    3: re.compile(r"\d{2}\.\d"),      # group, e.g. 01.1
    4: re.compile(r"\d{2}\.\d{2}"),   # class, e.g. 01.11
}
EXPECTED_COUNTS = {1: 21, 2: 88, 3: 272, 4: 615}
HEADER = ["code", "level", "name_en", "name_fr", "name_de"]


class DataError(Exception):
    pass


def read_export(path):
    """Return [(level, code, name)] from one Eurostat export, in file order."""
    items = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader, None)  # header row: does not match the rows, ignored
        for row in reader:
            if not row or not any(field.strip() for field in row):
                continue
            if len(row) < 3:
                raise DataError(f"{path.name}:{reader.line_num}: fewer than 3 fields")
            level_raw, code, name = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                level = int(level_raw)
            except ValueError:
                raise DataError(f"{path.name}:{reader.line_num}: level {level_raw!r} is not a number") from None
            if level not in CODE_PATTERN:
                raise DataError(f"{path.name}:{reader.line_num}: unexpected level {level}")
            if not CODE_PATTERN[level].fullmatch(code):
                raise DataError(f"{path.name}:{reader.line_num}: code {code!r} does not fit level {level}")
            if not name:
                raise DataError(f"{path.name}:{reader.line_num}: empty description for {code}")
            items.append((level, code, name))
    return items


def parent_code(level, code, section_of_division):
    if level == 1:
        return None
    if level == 2:
        return section_of_division[code]
    if level == 3:
        return code[:2]
    return code[:4]


def derive(data_dir):
    exports = {lang: read_export(data_dir / f"NACE_REV2_{lang}.csv") for lang in LANGS}

    base = exports["en"]
    codes = [code for _, code, _ in base]
    dupes = sorted(code for code, n in Counter(codes).items() if n > 1)
    if dupes:
        raise DataError(f"duplicate codes in the English export: {dupes}")
    for lang in LANGS[1:]:
        other = [(level, code) for level, code, _ in exports[lang]]
        if other != [(level, code) for level, code, _ in base]:
            raise DataError(f"NACE_REV2_{lang}.csv does not list the same items in the same order as the English export")

    # Hierarchy check: every item's parent is listed before it.
    seen = set()
    section_of_division = {}
    current_section = None
    for level, code, _ in base:
        if level == 1:
            current_section = code
        elif level == 2:
            if current_section is None:
                raise DataError(f"division {code} comes before any section")
            section_of_division[code] = current_section
        parent = parent_code(level, code, section_of_division)
        if parent is not None and parent not in seen:
            raise DataError(f"{code}: parent {parent} is not listed before it")
        seen.add(code)

    names = {lang: {code: name for _, code, name in exports[lang]} for lang in LANGS}
    rows = [
        [code, str(level), names["en"][code], names["fr"][code], names["de"][code]]
        for level, code, _ in base
    ]
    return rows, section_of_division


def cross_check(codes_path, rows, section_of_division):
    """Compare with the Odoo module's nace_rev2_codes.csv (id, parent_id:id, code, name)."""
    with codes_path.open(newline="", encoding="utf-8-sig") as f:
        records = list(csv.DictReader(f))
    code_of_id = {r["id"]: r["code"].strip() for r in records}
    listed = {r["code"].strip(): r for r in records if r["code"].strip()}
    ours = {row[0]: row for row in rows}
    problems = []
    if set(listed) != set(ours):
        problems.append(
            f"code sets differ: only in {codes_path.name}: {sorted(set(listed) - set(ours))}; "
            f"only in the exports: {sorted(set(ours) - set(listed))}"
        )
    for code, rec in listed.items():
        if code not in ours:
            continue
        level = int(ours[code][1])
        if rec["name"].strip() != ours[code][2]:
            problems.append(f"{code}: English name differs: {rec['name'].strip()!r} vs {ours[code][2]!r}")
        want = parent_code(level, code, section_of_division)
        got = code_of_id.get(rec["parent_id:id"], None)
        if (want or "") != (got or ""):
            problems.append(f"{code}: parent is {got!r} in {codes_path.name}, expected {want!r}")
    extra = len(records) - len(listed)
    return problems, extra


def main(argv=None):
    default_out = Path(__file__).resolve().parent.parent / "nace_rev2.csv"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder holding NACE_REV2_{en,fr,de}.csv")
    parser.add_argument("-o", "--output", type=Path, default=default_out, help=f"CSV to write (default: {default_out})")
    args = parser.parse_args(argv)

    try:
        rows, section_of_division = derive(args.data_dir)
    except (DataError, OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    counts = Counter(int(row[1]) for row in rows)
    summary = ", ".join(f"level {lv}: {counts.get(lv, 0)}" for lv in sorted(CODE_PATTERN))
    print(f"{len(rows)} items ({summary})")
    if dict(counts) != EXPECTED_COUNTS:
        print(f"warning: expected {sum(EXPECTED_COUNTS.values())} items {EXPECTED_COUNTS}", file=sys.stderr)

    codes_path = args.data_dir / "nace_rev2_codes.csv"
    if codes_path.exists():
        problems, extra = cross_check(codes_path, rows, section_of_division)
        if problems:
            for p in problems:
                print(f"error: {p}", file=sys.stderr)
            return 1
        print(f"cross-check with {codes_path.name}: same codes, English names and parents "
              f"({extra} row(s) without a code, the root, not counted)")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    tmp.replace(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
