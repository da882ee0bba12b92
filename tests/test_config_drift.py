"""Settings (gateway/config.py), config/gateway.toml and README.md's environment table say the
same thing: every option is in the file with its default and its environment variable, every
environment variable is in the README's table, and nothing is documented that nothing reads.

When one of these fails after you added an option, its message says what to add where.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from gateway.config import ENV_TO_FIELD, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOML = ROOT / "config" / "gateway.toml"
README = ROOT / "README.md"
NOT_SETTINGS = {"GATEWAY_CONFIG"}  # names the file itself

FIELDS = {f.name for f in dataclasses.fields(Settings)}
ENV_OF: dict[str, list[str]] = {}
for _var, (_field, _) in ENV_TO_FIELD.items():
    ENV_OF.setdefault(_field, []).append(_var)


def toml_options() -> dict[str, str]:
    """Option name -> its documentation (the line and the comment lines that continue it);
    commented-out options (`# api_keys = ...`) count, section tables count by their header."""
    options: dict[str, str] = {}
    current: str | None = None
    for line in TOML.read_text().splitlines():
        table = re.match(r"^\[([a-z_]+)\]\s*(#.*)?$", line)
        option = re.match(r"^#?\s?([a-z_]+)\s*=", line)
        if table and table[1] in FIELDS:
            current = table[1]
            options[current] = line
        elif option and not table:
            current = option[1]
            options[current] = line
        elif line.startswith(" ") and line.strip().startswith("#") and current:
            options[current] += "\n" + line
        else:
            current = None
    return options


def readme_variables() -> set[str]:
    """The variables named in the first column of the table under "## Configuration"."""
    lines = README.read_text().split("| environment variable |", 1)[1].splitlines()[2:]
    rows = [line for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("|"))]]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(row.split("|")[1] for row in rows)))


def file_only() -> set[str]:
    """Options that are a [table] of their own in the file: no environment variable spells one."""
    return {name for name, doc in toml_options().items() if doc.startswith("[")}


def test_every_setting_is_in_the_config_file():
    missing = sorted(FIELDS - set(toml_options()))
    assert not missing, (
        f"Settings field(s) {missing} are not in config/gateway.toml: add a line "
        "`name = <default>   # GATEWAY_NAME: what it does` under the fitting [section]"
    )


def test_the_config_file_documents_nothing_that_nothing_reads():
    unknown = sorted(set(toml_options()) - FIELDS)
    assert not unknown, (
        f"config/gateway.toml documents {unknown}, which Settings (gateway/config.py) does not"
        " have: remove the line(s) or add the field"
    )


def test_every_setting_has_an_environment_variable():
    missing = sorted(FIELDS - set(ENV_OF) - file_only())
    assert not missing, (
        f"Settings field(s) {missing} cannot be set from the environment: add "
        '`"GATEWAY_NAME": ("name", parser),` to ENV_TO_FIELD in gateway/config.py (a table'
        " option is a [section] of its own in config/gateway.toml, marked '(config file only)')"
    )


def test_the_config_file_names_each_option_s_environment_variable():
    options = toml_options()
    tables = file_only()
    wrong = [
        f"{name}: mention {' or '.join(ENV_OF[name])} in its comment"
        for name in sorted(FIELDS - tables)
        if name in options
        and name in ENV_OF
        and not any(var in options[name] for var in ENV_OF[name])
    ]
    wrong += [
        f"[{name}]: say '(config file only)' in its comment"
        for name in sorted(tables)
        if "config file only" not in options[name]
    ]
    assert not wrong, "config/gateway.toml: " + "; ".join(wrong)


def test_the_readme_table_lists_every_environment_variable():
    listed = readme_variables()
    missing = sorted(set(ENV_TO_FIELD) - listed)
    assert not missing, (
        f"README.md's environment table (## Configuration) lacks {missing}: add a row "
        "`| `GATEWAY_NAME` | default | what |`"
    )
    unknown = sorted(listed - set(ENV_TO_FIELD) - NOT_SETTINGS)
    assert not unknown, (
        f"README.md's environment table lists {unknown}, which gateway/config.py ENV_TO_FIELD"
        " does not read: remove the row(s) or add the variable"
    )


def test_the_config_file_shows_the_defaults():
    loaded = load_settings(environ={}, config_file=TOML)
    differ = {
        name: (getattr(loaded, name), getattr(Settings(), name))
        for name in sorted(FIELDS)
        if getattr(loaded, name) != getattr(Settings(), name)
    }
    assert not differ, (
        "config/gateway.toml sets values other than the Settings defaults (file, default): "
        f"{differ}; the file shows the defaults, so change one of them"
    )
