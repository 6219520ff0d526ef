"""Translation catalogs: `update` extracts, merges, fills English and compiles; `check` verifies.

English msgids are the source text, so the English catalog's translation of an entry
is its msgid; the Chinese catalog (the default language) is written by hand.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("zh", "en")
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext"]


def pybabel(*args):
    exe = Path(sys.executable).with_name("pybabel")
    done = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        sys.exit(f"pybabel {args[0]} failed:\n{done.stdout}{done.stderr}")


def extract(target: Path, header: bool = True) -> None:
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "--sort-output",
            *([] if header else ["--omit-header"]), "-o", str(target), ".")


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def update() -> None:
    extract(POT)
    for locale in LOCALES:
        po = catalog_path(locale)
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", "translations", "-l", locale,
                    "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            pybabel("init", "-i", str(POT), "-d", "translations", "-l", locale)
    fill_english()
    pybabel("compile", "-d", "translations")
    missing = problems()
    if missing:
        print("Chinese translations still needed:")
        for line in missing:
            print("  " + line)


def fill_english() -> None:
    path = catalog_path("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    catalog.fuzzy = False  # a header marked fuzzy makes pybabel skip the whole catalog
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, width=100)


def problems() -> list[str]:
    """Entries the code uses that a catalog lacks, leaves empty or marks fuzzy."""
    with tempfile.TemporaryDirectory() as tmp:
        pot_path = Path(tmp) / "check.pot"
        extract(pot_path, header=False)
        with pot_path.open("rb") as fh:
            wanted = {m.id if isinstance(m.id, str) else m.id[0]
                      for m in read_po(fh) if m.id}
    found = []
    for locale in LOCALES:
        path = catalog_path(locale)
        if not path.exists():
            found.append(f"{locale}: catalog missing")
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        have = {}
        for m in catalog:
            if m.id:
                have[m.id if isinstance(m.id, str) else m.id[0]] = m
        for msgid in sorted(wanted):
            m = have.get(msgid)
            if m is None:
                found.append(f"{locale}: missing {msgid!r}")
            elif "fuzzy" in m.flags:
                found.append(f"{locale}: fuzzy {msgid!r}")
            elif not (all(m.string) if isinstance(m.string, tuple | list) else m.string):
                found.append(f"{locale}: untranslated {msgid!r}")
        if catalog.fuzzy:
            found.append(f"{locale}: the catalog header is marked fuzzy (it would not compile)")
        for m in catalog:
            if m.id and "fuzzy" in m.flags:
                found.append(f"{locale}: fuzzy {m.id!r}")
    return found


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "check":
        issues = problems()
        for line in issues:
            print(line)
        sys.exit(1 if issues else 0)
    else:
        sys.exit("usage: tools/i18n.py update|check")
