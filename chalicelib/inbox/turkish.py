"""Turkish folding and suffix-aware matching, for workspaces whose `language` is `tr`.

Folding: `İ`→`i` and `I`→`ı` before lowercasing (Turkish has two i's, dotted and dotless, each with its
own capital), and the letters that make Turkish words different words are kept: ç ğ ı ö ş ü. So `kır`
(countryside) and `kir` (dirt), `ılık` (lukewarm) and `ilik` (marrow), `şeker` (sugar) and `seker`
(it jumps) never match each other. Other marks (the circumflex of `kâr`, foreign accents) are dropped.

Matching: Turkish attaches case, plural, possessive and copula endings to the word, so a term matches a
word that starts with it and goes on with either
- an apostrophe and anything (how proper nouns take endings: `İstanbul'da`, `Herald'ın`), or
- a chain of up to four known inflectional suffixes, each in the form vowel harmony and consonant
  assimilation give it after what precedes it: `marka+mız+dan`, `kahve+ler+imiz+i`, `kitap+ta`.
Derivational suffixes (`-lı`, `-lık`, `-cı`) make another word and are not followed: `kir` does not match
`kirli`. Consonant softening (`kitap` → `kitabı`) is not followed either: write the softened stem as a
term of its own if it matters.

Suffix templates use archiphonemes: `A` is a/e (two-way harmony), `I` is ı/i/u/ü (four-way), `D` is d/t
(t after a voiceless consonant), `C` is c/ç. A leading `(y)`, `(n)`, `(s)` or `(I)` appears only after a
vowel (the buffer consonants) or only after a consonant (the linking vowel).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

KEPT_LETTERS = frozenset("çğıöşü")
VOWELS = frozenset("aeıioöuü")
BACK_VOWELS = frozenset("aıou")
ROUNDED_VOWELS = frozenset("oöuü")
VOICELESS = frozenset("çfhkpsşt")
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
MAX_SUFFIXES = 4

# Inflectional endings (case, plural, possessive, copula, `-ki`), in the template notation above.
SUFFIX_TEMPLATES = (
    "lAr",                                                    # plural
    "DA", "DAn", "(y)A", "(y)I", "(n)In", "(y)lA", "ki",       # case endings, -ki
    "nDA", "nDAn", "nA", "nI",                                # case after a 3rd person possessive
    "(I)m", "(I)n", "(s)I", "(I)mIz", "(I)nIz", "lArI",      # possessives
    "DIr", "(y)Im", "sIn", "(y)Iz", "(y)DI", "(y)sA",         # copula
)


def fold(text: str) -> str:
    """Lowercase the Turkish way, keep ç ğ ı ö ş ü, drop other marks, one space between words."""
    lowered = text.replace("İ", "i").replace("I", "ı").lower().translate(APOSTROPHES)
    kept = []
    for char in unicodedata.normalize("NFC", lowered):
        if char in KEPT_LETTERS:
            kept.append(char)
            continue
        kept.extend(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def _last_vowel(word: str) -> str:
    for char in reversed(word):
        if char in VOWELS:
            return char
    return "e"  # a stem without vowels (an abbreviation) is read letter by letter, mostly front


def _render(template: str, before: str) -> str:
    """The surface form of a suffix template after the text `before`."""
    after_vowel = before[-1] in VOWELS
    if template.startswith("("):
        buffer, template = template[1], template[3:]
        if buffer == "I":
            template = template if after_vowel else "I" + template
        elif after_vowel:
            template = buffer + template
    vowel = _last_vowel(before)
    out: list[str] = []
    for symbol in template:
        previous = (before + "".join(out))[-1]
        if symbol == "A":
            out.append("a" if vowel in BACK_VOWELS else "e")
        elif symbol == "I":
            out.append(_four_way(vowel))
        elif symbol == "D":
            out.append("t" if previous in VOICELESS else "d")
        else:
            out.append(symbol)
        if out[-1] in VOWELS:
            vowel = out[-1]
    return "".join(out)


def _four_way(vowel: str) -> str:
    back = vowel in BACK_VOWELS
    if vowel in ROUNDED_VOWELS:
        return "u" if back else "ü"
    return "ı" if back else "i"


def is_inflection(stem: str, rest: str) -> bool:
    """Whether `rest` (what follows the stem inside one word) is an apostrophe ending or a suffix chain."""
    return not rest or rest.startswith("'") or _chain(stem, rest, MAX_SUFFIXES)


@lru_cache(maxsize=8192)
def _chain(before: str, rest: str, budget: int) -> bool:
    if not rest:
        return True
    if budget == 0:
        return False
    for template in SUFFIX_TEMPLATES:
        form = _render(template, before)
        if rest.startswith(form) and _chain(before + form, rest[len(form):], budget - 1):
            return True
    return False
