"""Transport stops at bot/channels/: nothing else imports twilio or telegram."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARDED = ["handlers", "conversations", "jobs", "models", "bot", "app.py"]
PROVIDERS = {"twilio", "telegram"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files() -> list[Path]:
    files = []
    for name in GUARDED:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "channels" not in f.relative_to(ROOT).parts]


def test_no_provider_library_is_imported_outside_the_channel_adapters():
    leaks = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & PROVIDERS)
        for path in python_files()
        if imported_modules(path) & PROVIDERS
    }
    assert leaks == {}


def test_the_guard_sees_the_code_it_guards():
    files = {str(path.relative_to(ROOT)) for path in python_files()}
    assert {"app.py", "jobs/send_message.py", "bot/webhooks.py", "handlers/keywords.py"} <= files
    assert not any(name.startswith("bot/channels/") for name in files)
