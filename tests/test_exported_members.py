"""Every public module's ``__all__`` is sorted, complete and importable (as httpx checks)."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

PUBLIC_MODULES = [
    "hazelkit",
    "hazelkit.blocking",
    "hazelkit.codec",
    "hazelkit.components",
    "hazelkit.dashboard",
    "hazelkit.lowlevel",
    "hazelkit.observe",
    "hazelkit.testing",
    "hazelkit.web",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(module, name), f"{module_name}.{name} is in __all__ but missing"


def test_the_package_exports_everything_public_it_defines() -> None:
    module_name = "hazelkit"
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and isinstance(value, type | types.FunctionType)
        and value.__module__.startswith("hazelkit")
    }
    missing = public - exported
    assert not missing, f"{module_name} exposes {sorted(missing)} without listing them in __all__"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_report_a_public_module(module_name: str) -> None:
    """Reprs, tracebacks and docs show ``hazelkit.Map``, never a private path."""
    module = importlib.import_module(module_name)
    private = []
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, type) or inspect.isfunction(value):
            owner = value.__module__
            if owner.startswith("hazelkit") and any(p.startswith("_") for p in owner.split(".")):
                private.append(f"{name} reports {owner}")
    assert not private, private
    assert repr(importlib.import_module("hazelkit").Map) == "<class 'hazelkit.Map'>"


def test_every_error_is_a_hazelkit_error() -> None:
    import hazelkit

    for name in hazelkit.__all__:
        value = getattr(hazelkit, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, hazelkit.HazelkitError), name


def test_every_public_callable_has_a_docstring() -> None:
    import inspect

    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if not inspect.getdoc(value):
                missing.append(f"{module_name}.{name}")
            if not inspect.isclass(value) or issubclass(value, BaseException):
                continue
            for attribute, member in vars(value).items():
                if attribute.startswith("_"):
                    continue
                function = member.fget if isinstance(member, property) else member
                function = getattr(function, "__func__", function)
                if callable(function) and not (function.__doc__ or "").strip():
                    missing.append(f"{module_name}.{name}.{attribute}")
    assert not missing, f"public callables without a docstring: {missing}"
