"""The docs stand on their own: every cited source resolves, nothing points outside the repository.

A source id (K4, M10, D9, T8c, ...) cited anywhere in code, templates or docs
must be listed in docs/sources.md; and no file may send the reader to a file
that is not in the repository (the team's notes live elsewhere).
"""

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"

# What a reader of the repository can open: code, templates, static files, docs.
SCANNED_SUFFIXES = {".py", ".html", ".md", ".txt", ".json", ".js", ".css", ""}
SKIPPED_DIRS = {"node_modules", "var", ".venv", ".git", "__pycache__", "migrations"}

# A source id: a family letter, a number, an optional companion letter (K4b).
# Not part of a longer word or code: HAM-D17, LOT-B2 and NDC 0409-2051 are not ids.
SOURCE_ID = re.compile(r"(?<![\w.-])([KMCDTBP]\d{1,2}[a-c]?)(?![\w])")
LISTED_ID = re.compile(r"^\| ([KMCDTBP]\d{1,2}[a-c]?) \|", re.MULTILINE)

# Files the project once pointed readers to; none of them ships with it. Built
# from parts so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join(
        re.escape(name)
        for name in (
            "../" + "shared",
            "shared" + "/",
            "domain" + ".md",
            "DESIGN" + ".md",
            "STYLE" + ".md",
            "anchors" + ".md",
        )
    )
)


def _files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix in SCANNED_SUFFIXES:
            yield path


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return
    yield from enumerate(text.splitlines(), start=1)


def listed_ids() -> set[str]:
    return set(LISTED_ID.findall(SOURCES.read_text()))


def test_sources_md_lists_each_id_once_and_each_family_without_gaps() -> None:
    rows = LISTED_ID.findall(SOURCES.read_text())
    assert sorted(rows) == sorted(set(rows))
    for family, last in {
        "K": 24,
        "M": 17,
        "C": 6,
        "D": 11,
        "T": 12,
        "B": 6,
        "P": 7,
    }.items():
        assert {f"{family}{n}" for n in range(1, last + 1)} <= set(rows), family


def test_every_cited_source_id_is_in_sources_md() -> None:
    known = listed_ids()
    unknown = [
        f"{path.relative_to(ROOT)}:{number}: {source_id}"
        for path in _files()
        if path != SOURCES
        for number, line in _lines(path)
        for source_id in SOURCE_ID.findall(line)
        if source_id not in known
    ]

    assert unknown == [], "cited but not in docs/sources.md:\n" + "\n".join(unknown)


def test_nothing_refers_to_files_outside_the_repository() -> None:
    this_file = Path(__file__).resolve()
    outside = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in _files()
        if path.resolve() != this_file
        for number, line in _lines(path)
        if OUTSIDE.search(line)
    ]

    assert outside == [], "refers to files outside the repository:\n" + "\n".join(
        outside
    )


# Settings ----------------------------------------------------------------------

SETTINGS = ROOT / "neuroclinic" / "settings.py"
CONFIGURATION = ROOT / "docs" / "configuration.md"
ENV_READ = re.compile(
    r"""(os\.getenv|env_bool|env_int|env_secret)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
# Copying the whole environment for a child process (`dict(os.environ)`) reads no setting.
ENV_ANYWHERE = re.compile(r"os\.getenv|os\.environ(?!\))")
SETTING_USED = re.compile(
    r"""settings\.([A-Z][A-Z0-9_]+)|getattr\(settings, ["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read() -> set[str]:
    names = set()
    for reader, name in ENV_READ.findall(SETTINGS.read_text()):
        names.add(name)
        if reader == "env_secret":
            names.add(f"{name}_FILE")
    return names


def variables_documented() -> set[str]:
    text = CONFIGURATION.read_text()
    table = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {
        name
        for row in rows
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }


def test_every_environment_variable_settings_reads_is_documented_and_no_other() -> None:
    read, documented = variables_read(), variables_documented()

    assert read - documented == set(), (
        "read in settings.py, missing from docs/configuration.md"
    )
    assert documented - read == set(), "documented, but settings.py never reads it"


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "neuroclinic").rglob("*.py")
        if path != SETTINGS
        and "tests" not in path.parts
        and path.name
        not in ("__main__.py", "wsgi.py")  # they only name the settings module
        and ENV_ANYWHERE.search(path.read_text())
    ]

    assert readers == []


def test_every_setting_the_code_reads_is_declared() -> None:
    from django.conf import settings

    used = {
        first or second
        for path in (ROOT / "neuroclinic").rglob("*.py")
        # Tests also set libraries' own settings (django-otp's throttling).
        if "migrations" not in path.parts and "tests" not in path.parts
        for first, second in SETTING_USED.findall(path.read_text())
    }

    assert used, "the pattern found nothing: check SETTING_USED"
    assert sorted(name for name in used if not hasattr(settings, name)) == []
