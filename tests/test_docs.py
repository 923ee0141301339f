"""The guides in docs/ stay true: every word people can send, every setting and every operator
command is documented, and every link between the guides leads somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import click
import pytest

from bot.config import Settings
from conversations.engine import BACK_WORDS
from handlers import groups, keywords
from handlers.commands import COMMANDS

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDES = ("learner.md", "facilitator.md", "organizer.md", "operator.md", "architecture.md")
ROLE_GUIDES = ("learner.md", "facilitator.md", "organizer.md")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def read(*names: str) -> str:
    return "\n".join((DOCS / name).read_text(encoding="utf-8") for name in names)


def mentions(text: str, word: str, *, ignore_case: bool = False) -> bool:
    """Whether `word` stands in `text` as a whole word (JIUNGE, not JIUNGEA)."""
    flags = re.IGNORECASE if ignore_case else 0
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags) is not None


def lines_with_all(text: str, words: tuple[str, ...], *, ignore_case: bool = False) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if all(mentions(line, w, ignore_case=ignore_case) for w in words)
    ]


def group_commands() -> list[tuple[str, ...]]:
    """Each group command with its Swahili twin, as handlers/groups.py answers them."""
    return [command.words for command in groups.COMMANDS]


def environment_names() -> Iterator[tuple[str, ...]]:
    """For each setting, the environment names that set it (any one of them will do)."""
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, str):
            yield (alias.upper(),)
        elif alias is not None and hasattr(alias, "choices"):
            yield tuple(c.upper() for c in alias.choices if isinstance(c, str))
        else:
            yield ((prefix + name).upper(),)


@cache
def cli_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command the app registers on `flask`, by its path: ("team", "create")."""
    from app import create_app

    def walk(command: click.Command, path: tuple[str, ...]):
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, (*path, name))
        else:
            yield path, command

    return list(walk(create_app().cli, ()))


def invocation(path: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"flask --app app " + r"\s+".join(map(re.escape, path)) + r"(?![\w-])")


def long_options(command: click.Command) -> list[str]:
    return [opt for param in command.params for opt in param.opts if opt.startswith("--")]


def prose(text: str) -> str:
    """The text without code, where a bracket is not a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a page."""
    headings = re.findall(r"^#+\s+(.+)$", FENCE.sub("", text), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("words", [c.words for c in COMMANDS], ids=lambda w: w[0])
def test_every_command_word_is_in_a_role_guide(words):
    text = read(*ROLE_GUIDES)
    assert [w for w in words if not mentions(text, w)] == []


@pytest.mark.parametrize("words", [c.words for c in COMMANDS], ids=lambda w: w[0])
def test_every_command_is_shown_beside_its_swahili_twin(words):
    assert lines_with_all(read(*ROLE_GUIDES), words), f"no table row shows {' / '.join(words)}"


@pytest.mark.parametrize("words", group_commands(), ids=lambda w: w[0])
def test_every_group_command_is_in_the_organizer_guide(words):
    text = read("organizer.md")
    missing = [w for w in words if not mentions(text, f"/{w}", ignore_case=True)]
    assert missing == []


@pytest.mark.parametrize("words", group_commands(), ids=lambda w: w[0])
def test_every_group_command_is_shown_beside_its_swahili_twin(words):
    slashed = tuple(f"/{w}" for w in words)
    assert lines_with_all(read("organizer.md"), slashed, ignore_case=True)


@pytest.mark.parametrize(
    "word",
    sorted(
        {
            *keywords.STOP_WORDS,
            *keywords.START_WORDS,
            *keywords.RESUME_WORDS,
            *keywords.HELP_WORDS,
            *keywords.LANG_WORDS,
            *keywords.EXIT_WORDS,
            *BACK_WORDS,
        }
    ),
)
def test_every_keyword_a_learner_can_send_is_in_the_learner_guide(word):
    assert mentions(read("learner.md"), word)


@pytest.mark.parametrize("names", list(environment_names()), ids=lambda n: n[0])
def test_every_setting_is_in_the_operator_guide(names):
    text = read("operator.md")
    assert any(mentions(text, name) for name in names), f"{names[0]} is not documented"


def test_the_settings_are_read_from_the_environment_names_the_guide_uses():
    assert ("DATABASE_URL",) in list(environment_names())
    assert len(list(environment_names())) == len(Settings.model_fields)


@pytest.mark.parametrize("path", [path for path, _ in cli_commands()], ids=" ".join)
def test_every_cli_command_is_in_the_operator_guide(path):
    assert invocation(path).search(read("operator.md")), f"flask --app app {' '.join(path)}"


@pytest.mark.parametrize(
    ("path", "command"), [pytest.param(p, c, id=" ".join(p)) for p, c in cli_commands()]
)
def test_every_cli_option_is_shown_with_its_command(path, command):
    text = read("operator.md")
    shown = "\n".join(line for line in text.splitlines() if invocation(path).search(line))
    options = long_options(command)
    missing = [o for o in options if o != "--json" and not mentions(shown, o)]
    assert missing == []
    if "--json" in options:
        assert mentions(text, "--json")


def test_the_cli_walk_finds_the_commands_operators_use():
    paths = {path for path, _ in cli_commands()}
    assert {("db", "upgrade"), ("team", "create"), ("tick",), ("chat",)} <= paths


def leads_somewhere(page: str, target: str) -> bool:
    """Whether a relative link of a guide names a file that exists (and its heading, if any)."""
    path, _, anchor = target.partition("#")
    file = (DOCS / path).resolve() if path else DOCS / page
    if not file.exists():
        return False
    return not anchor or file.suffix != ".md" or anchor in anchors(file.read_text())


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_link_in_the_guides_leads_somewhere(page):
    relative = [t for t in LINK.findall(prose(read(page))) if not re.match(r"[a-z]+:", t)]
    assert [t for t in relative if not leads_somewhere(page, t)] == []


def test_the_index_links_every_guide():
    linked = {target.partition("#")[0] for target in LINK.findall(read("README.md"))}
    assert set(GUIDES) <= linked
