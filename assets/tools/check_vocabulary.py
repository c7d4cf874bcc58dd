#!/usr/bin/env python3
"""Check the matching vocabulary in assets/vocabulary/.

Usage:
    python3 assets/tools/check_vocabulary.py [VOCABULARY_DIR]

Reads esco_concepts.csv, esco_labels.csv, own_concepts.csv, own_labels.csv,
concept_sectors.csv and esco_links.csv and checks:

- headers, and the allowed values of every column (kind, lang, sectors);
- concept ids: ESCO URIs in the ESCO files, mm:<slug> (skills) or
  mm:theme:<slug> (themes) in our own files, each listed once;
- every `broader` id and every labelled concept is a listed concept;
- no empty label, no label with leading, trailing or doubled spaces;
- at most one preferred label per concept and language;
- within one language, a label (folded as the matcher folds: case, accents and
  punctuation) belongs to one concept only, across all four files;
- none of our own labels shares the matcher's stemmed, word-order-free key
  with a label of another concept, in any language (ESCO labels are made to
  follow the same rule by derive_vocabulary.py, except preferred labels of
  different concepts that merely share a key, which are listed);
- every own concept has an English label;
- esco_links.csv links listed concepts, not to themselves, as `same`,
  `broader` or `unlink`, each with why;
- sectors: the `sectors` column of own_concepts.csv and of concept_sectors.csv
  holds space-separated names from SECTORS (each at most once, possibly none);
  concept_sectors.csv lists ESCO concepts of esco_concepts.csv, each once, and
  lists every ESCO concept that own_labels.csv gives labels to.

Prints counts per file and language, and the number of concepts with German
and Luxembourgish labels. Exits non-zero on any error. Python 3 standard
library only.
"""

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_vocabulary import fold, match_key  # noqa: E402  (the matcher's folding and stemmed key)

CONCEPT_HEADER = ["concept", "kind", "broader", "pref_en"]
OWN_CONCEPT_HEADER = CONCEPT_HEADER + ["sectors"]
LABEL_HEADER = ["concept", "lang", "kind", "label"]
SECTOR_HEADER = ["concept", "sectors"]
LINK_HEADER = ["concept", "relation", "target", "why"]
SECTORS = ("architecture", "crafts_and_art", "cinematography", "design", "games", "marketing_and_communication",
           "fashion", "new_media")
ESCO_ID = re.compile(r"http://data\.europa\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OWN_SKILL_ID = re.compile(r"mm:[a-z0-9]+(-[a-z0-9]+)*")
OWN_THEME_ID = re.compile(r"mm:theme:[a-z0-9]+(-[a-z0-9]+)*")
LANGS = {"esco": ("en", "fr"), "own": ("en", "fr", "de", "lb")}


def read(path, header, errors):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    if text.startswith("\ufeff"):
        errors.append(f"{path.name}: starts with a byte-order mark")
    if "\r" in text:
        errors.append(f"{path.name}: has CR line ends")
    rows = list(csv.reader(text.splitlines()))
    if not rows or rows[0] != header:
        errors.append(f"{path.name}: header must be {','.join(header)}")
        return []
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            errors.append(f"{path.name}:{n}: {len(row)} fields, expected {len(header)}")
            continue
        out.append((n, dict(zip(header, row))))
    return out


def check_sectors(value, where, errors):
    """A sectors cell: space-separated names from SECTORS, each once, single spaces, possibly empty."""
    if value != " ".join(value.split()):
        errors.append(f"{where}: stray spaces in sectors {value!r}")
    names = value.split()
    for name in names:
        if name not in SECTORS:
            errors.append(f"{where}: {name!r} is not a sector (one of {', '.join(SECTORS)})")
    if len(set(names)) != len(names):
        errors.append(f"{where}: a sector is listed twice in {value!r}")
    return names


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    vocab = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "vocabulary"
    errors = []
    concepts = {}  # id -> (file, kind)
    concept_rows = {}
    for source in ("esco", "own"):
        path = vocab / f"{source}_concepts.csv"
        concept_rows[source] = read(path, CONCEPT_HEADER if source == "esco" else OWN_CONCEPT_HEADER, errors)
        for n, row in concept_rows[source]:
            cid, kind = row["concept"], row["kind"]
            where = f"{path.name}:{n}"
            if source == "esco":
                if not ESCO_ID.fullmatch(cid):
                    errors.append(f"{where}: {cid!r} is not an ESCO skill URI")
                if kind != "skill":
                    errors.append(f"{where}: kind must be skill for ESCO concepts")
            else:
                if kind == "theme" and not OWN_THEME_ID.fullmatch(cid):
                    errors.append(f"{where}: a theme id must look like mm:theme:<slug>, not {cid!r}")
                elif kind == "skill" and (not OWN_SKILL_ID.fullmatch(cid) or cid.startswith("mm:theme")):
                    errors.append(f"{where}: a skill id must look like mm:<slug>, not {cid!r}")
                elif kind not in ("skill", "theme"):
                    errors.append(f"{where}: kind must be skill or theme, not {kind!r}")
            if source == "own":
                check_sectors(row["sectors"], where, errors)
            if not row["pref_en"].strip():
                errors.append(f"{where}: empty pref_en")
            if cid in concepts:
                errors.append(f"{where}: {cid} listed twice")
            concepts[cid] = (source, kind)
    for source in ("esco", "own"):
        for n, row in concept_rows[source]:
            for b in row["broader"].split():
                if b not in concepts:
                    errors.append(f"{source}_concepts.csv:{n}: broader {b} is not a listed concept")
                if b == row["concept"]:
                    errors.append(f"{source}_concepts.csv:{n}: a concept cannot be its own broader concept")

    owners = defaultdict(dict)  # (lang, folded) -> {concept: "file:line label"}
    keyed = defaultdict(dict)  # match key -> {concept: (source, kind, "file:line label")}
    prefs = Counter()
    per_lang = defaultdict(Counter)
    labelled = defaultdict(set)  # lang -> concepts with a label in that language
    for source in ("esco", "own"):
        path = vocab / f"{source}_labels.csv"
        for n, row in read(path, LABEL_HEADER, errors):
            where = f"{path.name}:{n}"
            cid, lang, kind, label = row["concept"], row["lang"], row["kind"], row["label"]
            if cid not in concepts:
                errors.append(f"{where}: {cid} is not a listed concept")
            if lang not in LANGS[source]:
                errors.append(f"{where}: lang must be one of {', '.join(LANGS[source])}, not {lang!r}")
            if kind not in ("pref", "alt"):
                errors.append(f"{where}: kind must be pref or alt, not {kind!r}")
            if not label.strip() or label != " ".join(label.split()):
                errors.append(f"{where}: empty label or stray spaces in {label!r}")
            key = fold(label)
            if not key:
                errors.append(f"{where}: {label!r} folds to nothing")
                continue
            if kind == "pref":
                prefs[(cid, lang)] += 1
            per_lang[source][lang] += 1
            labelled[lang].add(cid)
            owners[(lang, key)].setdefault(cid, f"{where} {label!r}")
            previous = keyed[match_key(label)].get(cid)
            if previous is None or (source == "own" and previous[0] != "own"):
                keyed[match_key(label)][cid] = (source, kind, f"{where} {label!r}")

    for (cid, lang), count in sorted(prefs.items()):
        if count > 1:
            errors.append(f"{cid} has {count} preferred labels in {lang}")
    clashes = 0
    for (lang, key), by_concept in sorted(owners.items()):
        if len(by_concept) > 1:
            clashes += 1
            listing = "; ".join(f"{c} ({w})" for c, w in sorted(by_concept.items()))
            errors.append(f"label clash ({lang}) {key!r}: {listing}")
    key_clashes = []
    for key, by_concept in sorted(keyed.items()):
        if len(by_concept) < 2:
            continue
        listing = "; ".join(f"{c} ({w})" for c, (_, _, w) in sorted(by_concept.items()))
        if any(source == "own" for source, _, _ in by_concept.values()):
            errors.append(f"own label shares the match key {key!r} with another concept: {listing}")
        elif any(kind == "alt" for _, kind, _ in by_concept.values()):
            errors.append(f"ESCO labels of different concepts share the match key {key!r}: {listing}")
        else:
            key_clashes.append(f"{key!r}: {listing}")
    for cid, (source, kind) in sorted(concepts.items()):
        if source == "own" and cid not in labelled["en"]:
            errors.append(f"own concept {cid} has no English label")

    # Links between concepts ESCO's hierarchy lacks.
    for n, row in read(vocab / "esco_links.csv", LINK_HEADER, errors):
        where = f"esco_links.csv:{n}"
        for cid in (row["concept"], row["target"]):
            if cid not in concepts:
                errors.append(f"{where}: {cid} is not a listed concept")
        if row["concept"] == row["target"]:
            errors.append(f"{where}: a concept cannot be linked to itself")
        if row["relation"] not in ("same", "broader", "unlink"):
            errors.append(f"{where}: relation must be same, broader or unlink, not {row['relation']!r}")
        if not row["why"].strip():
            errors.append(f"{where}: say why")

    # Sectors of ESCO concepts.
    sector_count = Counter()
    for _, row in concept_rows["own"]:
        sector_count.update(("own", s) for s in row.get("sectors", "").split())
    sector_rows = read(vocab / "concept_sectors.csv", SECTOR_HEADER, errors)
    listed = set()
    for n, row in sector_rows:
        where = f"concept_sectors.csv:{n}"
        cid = row["concept"]
        if concepts.get(cid, ("", ""))[0] != "esco":
            errors.append(f"{where}: {cid} is not a concept of esco_concepts.csv")
        if cid in listed:
            errors.append(f"{where}: {cid} listed twice")
        listed.add(cid)
        sector_count.update(("esco", s) for s in check_sectors(row["sectors"], where, errors))
    own_labelled_esco = set()
    with open(vocab / "own_labels.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if concepts.get(row.get("concept"), ("", ""))[0] == "esco":
                own_labelled_esco.add(row["concept"])
    for cid in sorted(own_labelled_esco - listed):
        errors.append(f"ESCO concept {cid} has own labels but no row in concept_sectors.csv")

    own = [c for c, (s, _) in concepts.items() if s == "own"]
    print(f"concepts: {sum(1 for s, _ in concepts.values() if s == 'esco')} ESCO, "
          f"{sum(1 for c in own if concepts[c][1] == 'skill')} own skills, "
          f"{sum(1 for c in own if concepts[c][1] == 'theme')} own themes")
    for source in ("esco", "own"):
        print(f"{source}_labels.csv: " + ", ".join(f"{lang} {per_lang[source][lang]}" for lang in LANGS[source]))
    both = labelled["de"] & labelled["lb"]
    print(f"concepts with German labels: {len(labelled['de'])}, with Luxembourgish labels: {len(labelled['lb'])}, "
          f"with both: {len(both)} ({sum(1 for c in both if concepts.get(c, ('', ''))[0] == 'esco')} ESCO, "
          f"{sum(1 for c in both if concepts.get(c, ('', ''))[1] == 'skill' and c.startswith('mm:'))} own skills, "
          f"{sum(1 for c in both if concepts.get(c, ('', ''))[1] == 'theme')} themes)")
    print(f"concept_sectors.csv: {len(listed)} ESCO concepts")
    print("concepts per sector (own + ESCO): " + ", ".join(
        f"{s} {sector_count[('own', s)]}+{sector_count[('esco', s)]}" for s in SECTORS))
    print(f"label clashes between concepts: {clashes}")
    print(f"preferred labels of different concepts sharing a match key (allowed): {len(key_clashes)}")
    for line in key_clashes:
        print(f"  {line}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
