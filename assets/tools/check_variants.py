#!/usr/bin/env python3
"""Check the labelled variant files used to tune and evaluate the skill matcher.

Usage:
    python3 assets/tools/check_variants.py [--vocabulary DIR] [--data DIR]

Defaults: the vocabulary in assets/vocabulary/ and the variants in tests/data/
(variants_heldout.csv and variants_tuning.csv), both found from this script's
location.

Each variant file has the header `variant,expected,category`: `expected` is the
id of the concept the variant must map to (an ESCO URI from esco_concepts.csv
or an mm: id from own_concepts.csv), or empty for a term that must stay a free
term; `category` is one of typo, language, jargon, hyphenation, negative.

Checks, each an error:
- the header, and a category from the list for every row;
- no empty variant, no leading or trailing spaces;
- `expected` is empty exactly for the negatives, and otherwise a listed concept;
- no variant repeats (case-folded) within a file or across the two files;
- held-out rule: no held-out variant, case-folded with accents kept, equals any
  label of the vocabulary (ESCO or own, any language) - held-out variants must
  be found by folding, stemming or fuzzy matching, never by plain lookup, and
  none of them may ever be added to the vocabulary;
- every category is represented in both files, and each file has at least 160
  rows.

Also reported, for information: counts per category, the share of negatives,
and how many variants equal a label once fully folded (case, accents and
punctuation, as the matcher folds) - those are found by the exact-lookup step.

Python 3 standard library only; exits non-zero on any error.
"""

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_vocabulary import fold  # noqa: E402  (the matcher's folding)

HEADER = ["variant", "expected", "category"]
CATEGORIES = ["typo", "language", "jargon", "hyphenation", "negative"]
FILES = (("held-out", "variants_heldout.csv"), ("tuning", "variants_tuning.csv"))
MIN_ROWS = 160


def load_vocabulary(vocab):
    concepts = set()
    for name in ("esco_concepts.csv", "own_concepts.csv"):
        with open(vocab / name, encoding="utf-8", newline="") as f:
            concepts.update(row["concept"] for row in csv.DictReader(f))
    labels = {}  # casefolded label -> (concept, lang, label)
    folded = {}  # fully folded label -> set of concepts
    for name in ("esco_labels.csv", "own_labels.csv"):
        with open(vocab / name, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                labels.setdefault(row["label"].casefold(), (row["concept"], row["lang"], row["label"]))
                folded.setdefault(fold(row["label"]), set()).add(row["concept"])
    return concepts, labels, folded


def main(argv=None):
    root = Path(__file__).resolve().parent.parent.parent
    parser = argparse.ArgumentParser(description="Check tests/data/variants_*.csv against the vocabulary.")
    parser.add_argument("--vocabulary", type=Path, default=root / "assets" / "vocabulary")
    parser.add_argument("--data", type=Path, default=root / "tests" / "data")
    args = parser.parse_args(argv)

    concepts, labels, folded = load_vocabulary(args.vocabulary)
    errors = []
    seen = {}  # casefolded variant -> "file:line"
    counts = {}
    for half, name in FILES:
        path = args.data / name
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0] != HEADER:
            errors.append(f"{name}: header must be {','.join(HEADER)}")
            continue
        per_category = Counter()
        exact_after_folding = 0
        for n, row in enumerate(rows[1:], start=2):
            where = f"{name}:{n}"
            if len(row) != 3:
                errors.append(f"{where}: {len(row)} fields, expected 3")
                continue
            variant, expected, category = row
            if category not in CATEGORIES:
                errors.append(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
            per_category[category] += 1
            if not variant.strip() or variant != variant.strip():
                errors.append(f"{where}: empty variant or leading/trailing spaces in {variant!r}")
            if category == "negative":
                if expected:
                    errors.append(f"{where}: a negative must have an empty expected id")
            elif not expected:
                errors.append(f"{where}: {variant!r} ({category}) has no expected id")
            elif expected not in concepts:
                errors.append(f"{where}: expected id {expected} is not in esco_concepts.csv or own_concepts.csv")
            key = variant.casefold()
            if key in seen:
                errors.append(f"{where}: {variant!r} repeats {seen[key]}")
            seen.setdefault(key, where)
            if half == "held-out" and key in labels:
                concept, lang, label = labels[key]
                errors.append(f"{where}: held-out variant {variant!r} is the {lang} label {label!r} of {concept}")
            owners = folded.get(fold(variant), set())
            if owners:
                exact_after_folding += 1
                if category == "negative":
                    errors.append(f"{where}: negative {variant!r} folds to a label of {', '.join(sorted(owners))}")
        total = sum(per_category.values())
        counts[half] = per_category
        if total < MIN_ROWS:
            errors.append(f"{name}: {total} rows, at least {MIN_ROWS} required")
        for category in CATEGORIES:
            if per_category[category] == 0:
                errors.append(f"{name}: no {category} variant")
        print(f"{name}: {total} rows - " + ", ".join(f"{c} {per_category[c]}" for c in CATEGORIES)
              + f"; negatives {100 * per_category['negative'] / max(total, 1):.1f}%"
              + f"; {exact_after_folding} equal a label once folded (case, accents, punctuation)")
    if len(counts) == 2:
        total = sum(sum(c.values()) for c in counts.values())
        both = ", ".join(f"{c} {counts['held-out'][c] + counts['tuning'][c]}" for c in CATEGORIES)
        print(f"total: {total} rows - {both}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
