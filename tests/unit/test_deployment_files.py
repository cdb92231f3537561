"""docs/deployment.md and its files follow the code: each systemd unit starts a `paraphe`
command that exists, with options it accepts, and every variable the page or the example
EnvironmentFile names is one that `Settings.from_env` reads (a misspelt variable is silently
ignored by the service: the deployment would run on a default)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
UNITS = sorted((ROOT / "docs" / "deployment" / "systemd").glob("*.service"))
ENV_EXAMPLE = ROOT / "docs" / "deployment" / "paraphe.env.example"
PARAPHE = Path(sys.executable).with_name("paraphe")  # the installed entry point

# The S3 store's settings, named by the page before the branch that reads them (fix/s3) is
# merged; once it is, Settings.from_env reads them and they are checked like the others.
# PARAPHE_SEAL_PKCS11_* (a family) or PARAPHE_ENV (one variable).
_VARIABLE = re.compile(r"\b(PARAPHE_[A-Z0-9_]*[A-Z0-9](?:_\*)?|DATABASE_URL)")


class _ReadRecorder(dict[str, str]):
    """An environment that remembers every variable it was asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def _example_env(tmp_path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    seal = tmp_path / "cachet.p12"
    seal.write_bytes(b"a PKCS#12 file")  # only its presence is checked at start
    return values | {"PARAPHE_SEAL_PKCS12": str(seal), "PARAPHE_INSTANCE_DIR": str(tmp_path)}


def _variables_read(tmp_path: Path) -> set[str]:
    """What Settings.from_env reads, in production (every check) and in development."""
    production = _ReadRecorder(_example_env(tmp_path))
    Settings.from_env(production)
    development = _ReadRecorder({"PARAPHE_INSTANCE_DIR": str(tmp_path / "dev")})
    Settings.from_env(development)
    return production.asked | development.asked


def _named(text: str) -> set[str]:
    return set(_VARIABLE.findall(text))


def _unknown(named: set[str], read: set[str]) -> list[str]:
    unknown = []
    for name in sorted(named):
        family = name.removesuffix("*")
        known = any(r.startswith(family) for r in read) if name.endswith("*") else name in read
        if not known:
            unknown.append(name)
    return unknown


def test_the_page_and_the_example_name_variables() -> None:
    # Guards the checks below: if the pattern stopped matching, they would pass on nothing.
    assert len(_named(DOC.read_text(encoding="utf-8"))) >= 15
    assert {"PARAPHE_ENV", "PARAPHE_SEAL_PKCS11_*"} <= _named(DOC.read_text(encoding="utf-8"))
    assert len(_named(ENV_EXAMPLE.read_text(encoding="utf-8"))) >= 15


def test_every_variable_named_by_the_page_is_read_by_the_settings(tmp_path: Path) -> None:
    read = _variables_read(tmp_path)
    assert not _unknown(_named(DOC.read_text(encoding="utf-8")), read)


def test_every_variable_of_the_example_environment_is_read(tmp_path: Path) -> None:
    read = _variables_read(tmp_path)
    assert not _unknown(_named(ENV_EXAMPLE.read_text(encoding="utf-8")), read)


def test_the_example_environment_is_a_valid_production_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env(_example_env(tmp_path))
    assert settings.production
    assert settings.database_backend == "postgresql" and settings.trusted_proxies == 1


def _unit(path: Path) -> configparser.ConfigParser:
    # strict=False: systemd allows a key to repeat (several ExecStart, Environment…).
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are CamelCase
    parser.read(path, encoding="utf-8")
    return parser


def test_the_units_are_there() -> None:
    assert {p.name for p in UNITS} >= {
        "paraphe-web.service",
        "paraphe-worker.service",
        "paraphe-scheduler.service",
    }


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_as_a_dedicated_hardened_user(path: Path) -> None:
    service = _unit(path)["Service"]
    assert service["User"] == "paraphe" and service["Group"] == "paraphe"
    assert service["EnvironmentFile"] == "/etc/paraphe/paraphe.env"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"]
    if service["Type"] != "oneshot":
        assert service["Restart"] == "on-failure"


def _exec_start(path: Path) -> list[str]:
    argv = shlex.split(_unit(path)["Service"]["ExecStart"].lstrip("-@:+!"))
    assert Path(argv[0]).name == "paraphe", argv
    return argv[1:]


def test_one_unit_schedules_the_periodic_jobs_and_the_workers_do_not() -> None:
    commands = {p.name: _exec_start(p) for p in UNITS}
    workers = [argv for argv in commands.values() if argv[0] == "worker"]
    assert sum("--no-periodic" not in argv for argv in workers) == 1
    assert "--no-periodic" in commands["paraphe-worker.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_starts_a_paraphe_command_that_exists(path: Path, tmp_path: Path) -> None:
    """`paraphe <its arguments> --help` with the installed entry point: click refuses an
    unknown command or option (exit 2) before it prints the help."""
    argv = _exec_start(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAPHE_")}
    env |= {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_QUEUE_URL": "inline"}
    env.pop("DATABASE_URL", None)  # the embedded SQLite in tmp_path: --help opens nothing

    done = subprocess.run(
        [str(PARAPHE), *argv, "--help"], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    assert f"Utilisation : paraphe {' '.join(argv[:first_option])} [OPTIONS]" in done.stdout


def test_the_commands_listed_by_paraphe_help_exist_one_per_line(tmp_path: Path) -> None:
    """`paraphe --help` lists the operator's commands in French, one per line (click would
    re-flow a plain docstring into one paragraph), and each one listed exists: its own
    `--help` answers (click refuses an unknown command with exit 2)."""
    from click.testing import CliRunner

    from app.console import main

    env = {"PARAPHE_INSTANCE_DIR": str(tmp_path), "PARAPHE_QUEUE_URL": "inline"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'paraphe.db'}"}

    def run(*argv: str) -> Any:
        return CliRunner().invoke(main, [*argv, "--help"], env=env)

    listed = [
        line.split()[1:3]
        for line in run().output.splitlines()
        if line.strip().startswith("paraphe ")
    ]
    assert len(listed) >= 15, listed
    assert ["worker", "[--workers"] in listed and ["serve", "serveur"] in listed
    for words in listed:
        # "db upgrade | db check", "users create|password|deactivate": the first of each.
        argv = [words[0]]
        second = words[1].split("|")[0]
        if second.isalpha() and not second.startswith("-"):
            argv.append(second)
        done = run(*argv)
        assert done.exit_code == 0, (argv, done.output)
