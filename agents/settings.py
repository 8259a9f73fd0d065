"""Settings declared once, as dataclass fields, and the command-line flags made from them.

An algorithm's config is a dataclass whose fields are declared with ``setting``: the default,
the help text and, where needed, the flag's name, its argument type and its choices. The
``train.py`` parser is generated from these fields, so a setting is never declared twice::

    @dataclass
    class MyConfig:
        lr: float = setting(1e-3, "Adam learning rate", type=positive_float)

No torch here: building the parser (and ``--help``) stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

_MISSING = dataclasses.MISSING


def setting(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    type: Callable[[str], Any] | None = None,
    choices: Sequence[Any] | None = None,
    metavar: str | None = None,
    hidden: bool = False,
) -> Any:
    """A dataclass field that is also a command-line flag (``--field-name`` unless ``flag``).

    A bool field becomes an on/off switch (``store_true``); ``hidden`` keeps the flag out of
    ``--help`` (for tests and smoke runs).
    """
    metadata = {
        "help": help,
        "flag": flag,
        "type": type,
        "choices": tuple(choices) if choices is not None else None,
        "metavar": metavar,
        "hidden": hidden,
    }
    return dataclasses.field(default=default, metadata=metadata)


def flag_of(field: dataclasses.Field) -> str:
    """The command-line spelling of a setting."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def settings_of(config_class: type) -> list[dataclasses.Field]:
    """The fields of ``config_class`` that are command-line settings (declared with ``setting``)."""
    return [field for field in dataclasses.fields(config_class) if "help" in field.metadata]


def add_settings(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    config_classes: Iterable[type],
    seen: set[str] | None = None,
    hidden: bool = False,
) -> dict[str, dataclasses.Field]:
    """Add one flag per setting of ``config_classes`` (a name in ``seen`` or shared by two
    classes is added once); ``hidden`` keeps them all out of ``--help``.

    The flags default to None: two configs may default one setting differently, so the
    caller sets the defaults of the config it runs (``parser.set_defaults``). Returns the
    fields added, by destination.
    """
    added: dict[str, dataclasses.Field] = {}
    seen = set() if seen is None else seen
    for config_class in config_classes:
        for field in settings_of(config_class):
            if field.name in seen:
                continue
            seen.add(field.name)
            added[field.name] = field
            meta = field.metadata
            options: dict[str, Any] = {"dest": field.name, "help": meta["help"]}
            if meta["hidden"] or hidden:
                options["help"] = argparse.SUPPRESS
            if field.type in (bool, "bool"):
                options["action"] = "store_true"
            else:
                options["type"] = meta["type"] or str
                if meta["choices"] is not None:
                    options["choices"] = meta["choices"]
                if meta["choices"] is None:
                    metavar = meta["metavar"] or flag_of(field)[2:].upper().replace("-", "_")
                    options["metavar"] = metavar
            parser.add_argument(flag_of(field), **options)
    return added


def default_of(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:
        return field.default_factory()
    raise TypeError(f"setting {field.name} has no default")


def config_from_args(config_class: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """An instance of ``config_class`` with each setting read from ``args``; ``fixed`` fills
    the fields that are not flags (e.g. ``algo``, where a config class has that field)."""
    values = {field.name: getattr(args, field.name) for field in settings_of(config_class)}
    names = {field.name for field in dataclasses.fields(config_class)}
    values.update({name: value for name, value in fixed.items() if name in names})
    return config_class(**values)
