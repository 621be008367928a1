"""Parse and prove an MRZ reading: TD3 and TD1 with every check digit (the mrz library)."""

import dataclasses
import datetime
import logging
import re

from django_countries import countries

from registration.constants import DocumentType, MrzNote, Sex
from registration.mrz.reading import _PERSON_FIELDS, FORM_FIELDS, ICAO_TO_ALPHA2, MrzReading

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class _Candidate:
    reading: MrzReading
    score: int


# ------------------------------------------------------------------------------
# Parsing and proving
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class _Parsed:
    """One reading of an MRZ: the values whose checks passed, and notes."""

    layout: str
    values: dict
    notes: tuple


# Positions that hold digits only: a letter there is an OCR slip the check digit then judges.
_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
    }
)
_NOT_MRZ = re.compile(r"[^A-Z0-9<]")


def _clean_lines(text: str) -> list[str]:
    """Return the MRZ-like lines of OCR ``text``, without stray marks at their ends."""
    lines = []
    for raw in text.splitlines():
        tokens = [_NOT_MRZ.sub("", token) for token in raw.split()]
        tokens = [token for token in tokens if token]
        # A speck beside the band is read as a short token of its own.
        while len(tokens) > 1 and len(tokens[0]) <= 2:
            tokens.pop(0)
        while len(tokens) > 1 and len(tokens[-1]) <= 2:
            tokens.pop()
        line = "".join(tokens)
        if len(line) >= 20:
            lines.append(line)
    return lines


def _fit(line: str, length: int) -> str | None:
    """Return ``line`` at ``length`` characters by changing its longest run of fillers."""
    if len(line) == length:
        return line
    if abs(len(line) - length) > 6:
        return None
    runs = list(re.finditer(r"<{2,}", line))
    if not runs:
        return None
    longest = max(runs, key=lambda m: (m.end() - m.start(), m.start()))
    new_length = (longest.end() - longest.start()) + (length - len(line))
    if new_length < 1:
        return None
    return line[: longest.start()] + "<" * new_length + line[longest.end() :]


def _candidates(line: str, length: int) -> list[str]:
    """Return the ways ``line`` may be ``length`` characters long: filler runs, windows."""
    options = []
    fitted = _fit(line, length)
    if fitted is not None:
        options.append(fitted)
    if len(line) > length:
        options.extend(line[i : i + length] for i in range(len(line) - length + 1))
    elif len(line) < length and line.endswith("<"):
        options.append(line + "<" * (length - len(line)))
    return list(dict.fromkeys(options))


def _digits(value: str) -> str:
    return value.translate(_TO_DIGIT)


def _parse(text: str, *, today: datetime.date) -> "_Parsed | None":
    """Return the best TD3 or TD1 reading in OCR ``text``, or None."""
    lines = _clean_lines(text)
    for i in range(len(lines) - 1):
        first, second = lines[i], lines[i + 1]
        start = first.find("P")
        if 0 <= start <= 2 and 38 <= len(first) - start <= 50 and 38 <= len(second) <= 52:
            parsed = _parse_td3(first[start:], second, today=today)
            if parsed is not None:
                return parsed
    for i in range(len(lines) - 2):
        if all(24 <= len(line) <= 36 for line in lines[i : i + 3]):
            parsed = _parse_td1(*lines[i : i + 3], today=today)
            if parsed is not None:
                return parsed
    return None


def _names(identifier: str) -> tuple[str, str] | None:
    """Return (surname, given names) of an MRZ name field, or None if it looks misread."""
    stripped = identifier.rstrip("<")
    if not re.fullmatch(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?", stripped):
        return None
    surname, _, given = stripped.partition("<<")
    return surname.replace("<", " "), given.replace("<", " ")


def _date(value: str, *, past: bool, today: datetime.date) -> datetime.date | None:
    """Return the date of YYMMDD ``value``: in the past for a birth, nearest to today else."""
    if not value.isdigit():
        return None
    year, month, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    candidates = []
    for century in (1900, 2000, 2100):
        try:
            candidates.append(datetime.date(century + year, month, day))
        except ValueError:
            return None
    if past:
        earlier = [d for d in candidates if d <= today]
        return max(earlier) if earlier else None
    return min(candidates, key=lambda d: abs((d - today).days))


def _nationality(code: str) -> str | None:
    """Return the ISO alpha-2 code the form lists for ICAO ``code``, or None."""
    code = code.replace("<", "")
    if code in ICAO_TO_ALPHA2:
        return ICAO_TO_ALPHA2[code]
    if len(code) != 3 or not code.isalpha():
        return None
    return countries.alpha2(code) or None


def _document_number(value: str) -> str | None:
    """Return the document number, or None if a '<' may have been read as a letter."""
    number = value.rstrip("<")
    if not number or "<" in number:
        return None
    # '<' counts 0 in a check digit, as K does: a trailing K may be a misread filler.
    if number.endswith("K"):
        return None
    return number


def _td3_checks(second: str):
    """Return the ``mrz`` library's checker of a TD3 whose first line does not matter."""
    from mrz.checker.td3 import TD3CodeChecker

    try:
        return TD3CodeChecker(f"P<UTO{'<' * 39}\n{second}")
    except (ValueError, IndexError):  # the library's errors are ValueErrors
        return None


def _passed(checker) -> tuple[bool, bool, bool, bool]:
    """Return (document number, birth, expiry, composite) check digits passed."""
    return (
        checker.document_number_hash,
        checker.birth_date_hash,
        checker.expiry_date_hash,
        checker.final_hash,
    )


def _number_variants(line: str) -> list[str]:
    """Return ``line`` with each mix of O and 0 in its document number (at most 3 of them)."""
    positions = [i for i in range(9) if line[i] in "O0"]
    if not positions or len(positions) > 3:
        return [line]
    variants = []
    for mask in range(2 ** len(positions)):
        chars = list(line)
        for bit, position in enumerate(positions):
            chars[position] = "0" if mask >> bit & 1 else "O"
        variants.append("".join(chars))
    return variants


def _td3_second_line(second: str) -> tuple[str, tuple] | None:
    """
    Return the second TD3 line as it most likely is, with its checks passed.

    Tried: fillers stretched or shrunk, windows of 44 characters, O and 0 swapped in the
    document number. Among readings where every check digit passes, all must be the same
    line; two different lines that both pass mean nothing is certain.
    """
    originals, complete = [], set()
    for line in _candidates(second, 44):
        line = (
            line[0:9]
            + _digits(line[9])
            + line[10:13]
            + _digits(line[13:20])
            + line[20]
            + _digits(line[21:28])
            + line[28:42]
            + _digits(line[42]).replace("K", "<")
            + _digits(line[43])
        )
        for variant in _number_variants(line):
            checker = _td3_checks(variant)
            if checker is None:
                continue
            passed = _passed(checker)
            if all(passed):
                complete.add(variant)
            if variant == line:
                originals.append((variant, passed))
    if len(complete) == 1:
        return complete.pop(), (True, True, True, True)
    if len(complete) > 1 or not originals:
        return None
    return max(originals, key=lambda item: sum(item[1]))


def _parse_td3(first: str, second: str, *, today: datetime.date) -> _Parsed | None:
    best = _td3_second_line(second)
    if best is None or not any(best[1]):
        return None
    second, (number_ok, birth_ok, expiry_ok, composite_ok) = best
    values: dict = {}
    notes: list[str] = []
    if number_ok and (number := _document_number(second[0:9])):
        values["document_number"] = number
    if birth_ok and (birth := _date(second[13:19], past=True, today=today)):
        values["date_of_birth"] = birth.isoformat()
    if expiry_ok and (expiry := _date(second[21:27], past=False, today=today)):
        values["document_expiry"] = expiry.isoformat()
    # Names, nationality and sex have no check digit: they count only when every check
    # digit of the line below passed, so the band was read well.
    if composite_ok and number_ok and birth_ok and expiry_ok:
        fitted = _td3_first_line(first)
        identifier = fitted[5:44] if fitted else ""
        values.update(_unchecked(identifier, second[10:13], second[20], notes))
        values["document_type"] = DocumentType.PASSPORT.value
    else:
        notes.append(MrzNote.CHECK_FAILED.value)
    return _Parsed("TD3", values, tuple(notes))


def _td3_first_line(first: str) -> str | None:
    """Return the first TD3 line at 44 characters, or None if its names cannot be trusted."""
    # A speck glued to the end of the filler: "...SMITH<<<<<<X".
    first = re.sub(r"(<{5,})[A-Z0-9]{1,2}$", r"\1", first) if len(first) > 44 else first
    if len(first) < 44 and first.endswith("<"):
        first += "<" * (44 - len(first))
    fitted = _fit(first, 44)
    if fitted is None or fitted[0] != "P":
        return None
    return fitted


def _parse_td1(first: str, second: str, third: str, *, today: datetime.date) -> _Parsed | None:
    from mrz.checker.td1 import TD1CodeChecker

    for line1 in _candidates(first, 30):
        for line2 in _candidates(second, 30):
            line2 = (
                _digits(line2[0:7])
                + line2[7]
                + _digits(line2[8:15])
                + line2[15:29]
                + _digits(line2[29])
            )
            line3 = _fit(third, 30) or (
                third + "<" * (30 - len(third)) if third.endswith("<") else None
            )
            if line3 is None:
                return None
            try:
                checker = TD1CodeChecker(f"{line1}\n{line2}\n{line3}")
            except (ValueError, IndexError):
                continue
            if not all(_passed(checker)):
                continue
            # A card's number and expiry are not the travel document's: only the person.
            notes = [MrzNote.NOT_A_PASSPORT.value]
            values: dict = {}
            if birth := _date(line2[0:6], past=True, today=today):
                values["date_of_birth"] = birth.isoformat()
            values.update(_unchecked(line3, line2[15:18], line2[7], notes))
            return _Parsed("TD1", values, tuple(notes))
    return None


def _unchecked(identifier: str, nationality: str, sex: str, notes: list) -> dict:
    """Return names, nationality and sex, which no check digit of their own covers."""
    values = {}
    names = _names(identifier) if identifier else None
    if names is not None and names[0]:
        values["surname"], given = names
        if given:
            values["given_names"] = given
    alpha2 = _nationality(nationality)
    if alpha2:
        values["nationality"] = alpha2
    elif re.fullmatch(r"[A-Z<]{3}", nationality):
        notes.append(MrzNote.NATIONALITY_NOT_LISTED.value)
    if sex == "M":
        values["sex"] = Sex.MALE.value
    elif sex == "F":
        values["sex"] = Sex.FEMALE.value
    elif sex in ("<", "X"):
        notes.append(MrzNote.SEX_NOT_LISTED.value)
    return values


def _agree(parsed: list[_Parsed]) -> _Candidate | None:
    """
    Return the values that two readings agree on and none contradicts.

    One reading proves nothing alone: a check digit cannot tell '<' from K, nor 6 from G.
    """
    if len(parsed) < 2:
        return None
    values: dict = {}
    for name in FORM_FIELDS:
        seen = [p.values[name] for p in parsed if name in p.values]
        if len(seen) >= 2 and len(set(seen)) == 1:
            values[name] = seen[0]
    layout = parsed[0].layout
    notes: list[str] = []
    for p in parsed:
        for note in p.notes:
            if note not in notes and note != MrzNote.CHECK_FAILED.value:
                notes.append(note)
    expected = FORM_FIELDS if layout == "TD3" else _PERSON_FIELDS
    explained = set()
    if MrzNote.NATIONALITY_NOT_LISTED.value in notes:
        explained.add("nationality")
    if MrzNote.SEX_NOT_LISTED.value in notes:
        explained.add("sex")
    # Some people have no given name: every reading found a surname and none a given name.
    if all("surname" in p.values and "given_names" not in p.values for p in parsed):
        explained.add("given_names")
    if any(name not in values and name not in explained for name in expected):
        notes.append(MrzNote.CHECK_FAILED.value)
    return _Candidate(
        reading=MrzReading(layout=layout, fields=values, notes=tuple(notes)), score=len(values)
    )
