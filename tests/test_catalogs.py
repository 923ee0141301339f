"""Every text key used in code exists in English and Swahili, and both catalogs match."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalog
from conversations.flows import FLOWS
from conversations.parsers import HINT_KEYS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["app.py", "bot", "handlers", "conversations", "jobs", "models", "console"]
# t("key", ...), ctx.say("key", ...), ask="key", hint="key", refusal="key", plus "key" constants.
KEY_USE = re.compile(
    r"""(?:\bt\(|\.say\(|\bask=|\bhint=|\brefusal=|Reask\()\s*["']([a-z_]+\.[a-z_.]+)["']"""
)
# Templates name their texts as text("key", ...), the console's as _("key", ...).
TEMPLATE_KEY = re.compile(r"""(?:\btext\(|\b_\()\s*["']([a-z_]+\.[a-z_.]+)["']""")
# Any other "namespace.key" literal whose namespace the catalog uses (keys kept in variables).
# (foreign_key="team.id" and the like name columns, not texts.)
KEY_LITERAL = re.compile(r"""(?<!foreign_key=)["']([a-z_]+\.[a-z_]+)["']""")
NAMESPACES = {key.split(".")[0] for key in catalog("en")}


def keys_used_in_code() -> set[str]:
    keys = set()
    for name in SOURCES:
        path = ROOT / name
        for file in [path] if path.is_file() else path.rglob("*.py"):
            source = file.read_text()
            keys |= set(KEY_USE.findall(source))
            if file.is_relative_to(ROOT / "console"):
                continue  # its "console.home" literals are endpoints; its texts are in _()
            keys |= {key for key in KEY_LITERAL.findall(source) if key.split(".")[0] in NAMESPACES}
    templates = [*(ROOT / "bot" / "templates").glob("*.html"),
                 *(ROOT / "console" / "templates").rglob("*.html")]  # fmt: skip
    for template in templates:
        # A key ending in "_" is a prefix that the template completes ("console.status_" ~ s).
        keys |= {k for k in TEMPLATE_KEY.findall(template.read_text()) if not k.endswith("_")}
    keys |= set(HINT_KEYS)
    keys |= {step.ask for flow in FLOWS for step in flow.steps}
    return keys


def test_the_scan_finds_keys():
    assert {"stop.confirmed", "help.intro", "lang.ask", "parse.yes_no", "page.footer",
            "console.sign_in_title", "console.team_list_title"} <= keys_used_in_code()  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_in_code_exists(language):
    missing = keys_used_in_code() - set(catalog(language))
    assert missing == set()


def test_both_catalogs_have_the_same_keys():
    assert set(catalog("en")) == set(catalog("sw"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_translations_use_the_same_placeholders():
    english, swahili = catalog("en"), catalog("sw")
    different = {k for k in english if placeholders(english[k]) != placeholders(swahili.get(k, ""))}
    assert different == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_without_placeholders_fit_one_sms(language):
    from bot.sms import segments

    too_long = {
        key: segments(text)
        for key, text in catalog(language).items()
        if not placeholders(text) and segments(text) > 1 and not key.startswith("help.group")
    }
    assert too_long == {}
