"""The lock: every file it names is hashed, and the uv ./dev installs is the uv that writes it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_requirements_uv_pins_the_uv_that_pyproject_requires() -> None:
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]
    required = settings["required-version"]
    pins = re.findall(r"^uv==(\S+)", (REPO / "requirements-uv.txt").read_text(), re.MULTILINE)
    assert [f"=={pin}" for pin in pins] == [required]


def test_every_file_uv_lock_names_has_its_hash() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    wheels = [wheel for package in lock["package"] for wheel in package.get("wheels", [])]
    files = wheels + [package["sdist"] for package in lock["package"] if "sdist" in package]
    assert len(files) > 100
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", file["hash"]) for file in files)
