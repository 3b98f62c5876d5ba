"""Help text in one style for every ``hazelkit`` command.

Typer marks every option with its Python type (``<bool>`` after a flag, ``<str>``) and
a required argument with braces (``{url}``). Help here names values the way Unix tools
do: a flag shows nothing, a value shows its metavar (``URL``, ``SECONDS``) or its type in
capitals, an argument shows ``URL`` (required) or ``[URL]`` (optional).
"""

from __future__ import annotations

from typing import Any, TypeVar

from typer.core import TyperArgument, TyperOption

__all__ = ["tidy"]

C = TypeVar("C")


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        return self.display_type(ctx).strip("<>").upper()


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self._name_in_capitals() + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self._name_in_capitals()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def _name_in_capitals(self) -> str:
        return self.metavar or (self.name or "value").upper()


def tidy(command: C) -> C:
    """``command`` (from ``typer.main.get_command``) and its subcommands with help in
    hazelkit's style (changed in place)."""
    found: Any = command
    for param in found.params:
        _restyle(param)
    make_help_option = found.get_help_option

    def get_help_option(ctx: Any) -> Any:
        return _restyle(make_help_option(ctx))

    found.get_help_option = get_help_option
    for sub in getattr(found, "commands", {}).values():
        tidy(sub)
    return command


def _restyle(param: Any) -> Any:
    if type(param) is TyperOption:
        param.__class__ = _Option
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
    return param
