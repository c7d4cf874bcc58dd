#!/usr/bin/env python3
"""Derive assets/vocabulary/language_words.txt: words of English, French and German that are a few edits from a
word of the vocabulary's labels without being a form of it. The matcher reads a typed word found here as a word
of the language, not a typo ("Lederwaren" is not a slip for "Miederwaren", nor "Möbelbau" for "Modellbau").

    python3 assets/tools/derive_language_words.py DICT_DIR > assets/vocabulary/language_words.txt

DICT_DIR holds Debian's word lists (packages wbritish, wamerican, wfrench, wngerman: /usr/share/dict/british-english,
american-english, french, ngerman). Words are folded as the matcher folds them (src/domain/fold.rs); "a few edits"
is the matcher's `near` (Damerau-Levenshtein: 1 up to eight characters, 2 beyond; nothing under five); "a form of
it" is the matcher's `same_word_forms` (the two share all but the last four letters of the shorter, and at least four).
"""
import csv
import os
import sys

from derive_vocabulary import fold  # the matcher's folding, as the vocabulary's tool spells it out

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.join(HERE, "..", "vocabulary")
LISTS = ["british-english", "american-english", "french", "ngerman"]


def allowed(a, b):
    n = max(len(a), len(b))
    return 0 if n < 5 else 1 if n < 9 else 2


def damerau_levenshtein(a, b):
    """Unrestricted Damerau-Levenshtein, as strsim computes it."""
    da = {}
    inf = len(a) + len(b)
    d = [[inf] * (len(b) + 2) for _ in range(len(a) + 2)]
    for i in range(len(a) + 1):
        d[i + 1][0], d[i + 1][1] = inf, i
    for j in range(len(b) + 1):
        d[0][j + 1], d[1][j + 1] = inf, j
    for i in range(1, len(a) + 1):
        db = 0
        for j in range(1, len(b) + 1):
            k, l = da.get(b[j - 1], 0), db
            cost = 1
            if a[i - 1] == b[j - 1]:
                cost, db = 0, j
            d[i + 1][j + 1] = min(
                d[i][j] + cost, d[i + 1][j] + 1, d[i][j + 1] + 1, d[k][l] + (i - k - 1) + 1 + (j - l - 1)
            )
        da[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


def inflection(a, b):
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared >= 4 and shared + 4 >= min(len(a), len(b))


def deletes(word, depth):
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def main():
    folder = sys.argv[1]
    vocab = set()
    for name in ["esco_labels.csv", "own_labels.csv"]:
        with open(os.path.join(VOCAB, name), newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                vocab.update(fold(row["label"]).split())
    index = {}
    for v in vocab:
        if len(v) >= 4:
            for key in deletes(v, 2 if len(v) >= 8 else 1):
                index.setdefault(key, set()).add(v)
    kept = set()
    for name in LISTS:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            for line in f:
                w = fold(line.strip())
                if len(w) < 5 or " " in w or not w.isalpha() or w in vocab or w in kept:
                    continue
                near = set()
                for key in deletes(w, 2 if len(w) >= 8 else 1):
                    near |= index.get(key, set())
                if any(
                    damerau_levenshtein(w, v) <= allowed(w, v) and not inflection(w, v) for v in near if v != w
                ):
                    kept.add(w)
    print("# Words of English, French and German a few edits from a word of the vocabulary without being a form of it.")
    print("# Derived by assets/tools/derive_language_words.py from Debian's word lists: wbritish and wamerican")
    print("# (SCOWL, Kevin Atkinson and others: permissive licences), wfrench (Christophe Pythoud: GPL-2+), wngerman")
    print("# (igerman98, Björn Jacke: GPL-2+). See assets/vocabulary/README.md, Licence.")
    for w in sorted(kept):
        print(w)


if __name__ == "__main__":
    main()
