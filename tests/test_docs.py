"""The documentation keeps up with the code: every setting the code reads is in configuration.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = ["iportalis", "policy", "consent", "staff", "ops", "gunicorn.conf.py", "manage.py"]
# Functions whose first argument names what they read (consent.conf reads through `setting`).
READERS = {"env_bool", "env_int", "env_list", "require", "getenv", "setting"}


def python_files() -> list[Path]:
    files: list[Path] = []
    for source in SOURCES:
        path = REPO / source
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _is_settings(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "settings"


def names_read(tree: ast.AST) -> set[str]:
    """Return the environment variables and Django settings a module reads."""
    names: set[str] = set()
    for node in ast.walk(tree):
        name: str | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in READERS or (
                called == "get" and isinstance(func, ast.Attribute) and _is_environ(func.value)
            ):
                name = _string(node.args[0])
            elif called == "getattr" and _is_settings(node.args[0]) and len(node.args) > 1:
                name = _string(node.args[1])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _string(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            name = _string(node.left)
        elif isinstance(node, ast.Attribute) and _is_settings(node.value):
            name = node.attr
        if name:
            names.add(name)
    return {name for name in names if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)}


def test_the_scanner_finds_each_kind_of_read() -> None:
    tree = ast.parse(
        "import os\n"
        "a = os.environ.get('ONE')\n"
        "b = os.environ['TWO']\n"
        "c = 'THREE' in os.environ\n"
        "d = env_int('FOUR', 1)\n"
        "e = getattr(settings, 'FIVE', None)\n"
        "f = settings.SIX\n"
        "h = self.setting('SEVEN', 1)\n"
        "g = settings.configured\n"
    )
    assert names_read(tree) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN"}


def test_every_setting_the_code_reads_is_in_configuration_md() -> None:
    text = (REPO / "docs/configuration.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", text))
    read = {
        name: path.relative_to(REPO)
        for path in python_files()
        for name in names_read(ast.parse(path.read_text(), filename=str(path)))
    }
    missing = {name: str(path) for name, path in read.items() if name not in documented}
    assert not missing, f"read by the code but not in docs/configuration.md: {missing}"
    assert len(read) > 30  # the scanner still sees the settings
