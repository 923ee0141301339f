"""The console's language: English or Kiswahili, chosen on the page and kept in the session."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, g, request, session

from bot.i18n import LANGUAGE_NAMES, LANGUAGES, t
from console import console


def language() -> str:
    """The page's language: the one chosen here, else the operator's, else the browser's."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    operator = g.get("operator")
    if operator is not None and operator.language in LANGUAGES:
        return operator.language
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


# The console's own requests only: a provider's webhook pays nothing for it.
@console.before_request
def choose_language() -> None:
    """`?lang=sw` on any page switches the console's language, for the session."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted


def in_language(code: str) -> str:
    """This page, with its filters, in another language."""
    args = request.args.to_dict(flat=False) | {"lang": [code]}
    return request.path + "?" + urlencode(args, doseq=True)


def install(app: Flask) -> None:
    """Give templates `_("console.key", name=value)` in the page's language."""

    @app.context_processor
    def texts() -> dict:
        here = language()
        return {
            "_": lambda key, **values: t(key, here, **values),
            "in_language": in_language,
            "page_language": here,
            "language_names": LANGUAGE_NAMES,
        }
