"""Services by reflection (GeeRPC day 3): an object's public one-argument methods."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Method", "Service"]


@dataclass(eq=False)
class Method:
    """One callable method of a service, with what it takes and returns."""

    name: str
    function: Callable[[Any], Any]
    arg_type: Any  # the parameter's annotation, ``Any`` when it has none
    reply_type: Any
    is_async: bool
    calls: int = 0

    def describe(self) -> tuple[str, str]:
        return _type_name(self.arg_type), _type_name(self.reply_type)


class Service:
    """``Service(obj, name=None)``: ``name`` defaults to the class name. Raises
    ``ValueError`` when the object has no public method taking exactly one argument."""

    def __init__(self, obj: object, name: str | None = None) -> None:
        self.name = name or type(obj).__name__
        if not self.name or "." in self.name or not self.name.isidentifier():
            raise ValueError(f"a service name is an identifier without dots, not {self.name!r}")
        self.methods: dict[str, Method] = {}
        for attr in sorted(dir(obj)):
            if attr.startswith("_"):
                continue
            function = getattr(obj, attr)
            if not inspect.ismethod(function) and not inspect.isfunction(function):
                continue
            method = _method(attr, function)
            if method is not None:
                self.methods[attr] = method
        if not self.methods:
            raise ValueError(
                f"service {self.name!r} has no public method taking exactly one argument"
            )


def _method(name: str, function: Callable[..., Any]) -> Method | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())
    if len(parameters) != 1 or parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return None
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: treat it as absent
        hints = {}
    return Method(
        name,
        function,
        hints.get(parameters[0].name, Any),
        hints.get("return", Any),
        inspect.iscoroutinefunction(function),
    )


def _type_name(annotation: Any) -> str:
    if annotation is Any:
        return "any"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
