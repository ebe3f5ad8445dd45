"""What differs between Airflow 3.0, 3.1, 3.2 and 3.3, in one place.

Import Airflow names that moved from here, not from Airflow::

    from airflow_provider_wa_phones._compat import BaseHook, conf

=====================  =============================  ==========================================
name                   where 3.3 has it               older versions
=====================  =============================  ==========================================
BaseHook               ``airflow.sdk``                3.0: ``airflow.hooks.base``, without
                                                      ``aget_connection`` (added here, with
                                                      ``extra_dejson`` safe in the event loop)
conf                   ``airflow.sdk``                3.0, 3.1: ``airflow.configuration``
AirflowException,      ``airflow.sdk.exceptions``     3.0, 3.1: ``airflow.exceptions`` (the
AirflowFailException,                                 classes the task runner, sensors and
AirflowSkipException,                                 ``resume_execution`` raise and act on
AirflowSensorTimeout,                                 there)
TaskDeferralError,
TaskDeferralTimeout
mask_secret            ``airflow.sdk.log``            the same everywhere
amask_secret           ``airflow.sdk.log``            before 3.3: what 3.3 does, rebuilt here
connection forms       provider info ``conn-fields``  before 3.2: the hook classmethods
                       / ``ui-field-behaviour``       below, built from the same provider info
=====================  =============================  ==========================================

``BaseOperator``, ``BaseSensorOperator``, ``PokeReturnValue``, ``Context``, ``ObjectStoragePath``,
``Param`` (``airflow.sdk``) and ``BaseTrigger``, ``TriggerEvent``, ``BaseEventTrigger``
(``airflow.triggers.base``) are where 3.3 has them in every 3.x: import them from Airflow.

Names are resolved on first use (PEP 562): importing this module costs nothing, and a module that
imports only ``conf`` never loads the hook classes (DAG files import operators and sensors).
Features that only a newer Airflow has are detected by what is present, not by version number;
:func:`needs_newer_airflow` words the message when one is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_wa_phones.get_provider_info import get_provider_info

if TYPE_CHECKING:
    # Type checkers see Airflow 3.3's names; at run time __getattr__ below resolves each one.
    from airflow.sdk import BaseHook, conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferralError,
        TaskDeferralTimeout,
    )

_HookT = TypeVar("_HookT", bound=type[Any])

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "TaskDeferralError",
    "TaskDeferralTimeout",
    "airflow_version",
    "amask_secret",
    "conf",
    "legacy_connection_form_widgets",
    "legacy_ui_field_behaviour",
    "mask_secret",
    "needs_newer_airflow",
    "shared_trigger_streams_supported",
    "trigger_state_store",
    "with_legacy_connection_form",
]


# --- names that moved ---------------------------------------------------------------------------


def _base_hook() -> type[Any]:
    try:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 3.0
        return _legacy_base_hook()
    return BaseHook


def _legacy_base_hook() -> type[Any]:
    # By module path: on newer versions this module is a deprecation shim type checkers cannot see.
    legacy_base_hook: Any = importlib.import_module("airflow.hooks.base").BaseHook

    class BaseHook(legacy_base_hook):  # type: ignore[misc]  # Any to type checkers
        """Airflow 3.0's hook base class, plus the ``aget_connection`` that 3.1 added."""

        @classmethod
        async def aget_connection(cls, conn_id: str) -> Any:
            """Get a connection without blocking the event loop: read in asgiref's worker thread,
            from which 3.0's triggerer answers sync calls (as for 3.0's own async hooks).
            """
            # light DAG parsing: asgiref is needed only by Airflow 3.0's triggerer
            from asgiref.sync import sync_to_async

            def read() -> _ConnectionReadInThread:
                return _ConnectionReadInThread(cls.get_connection(conn_id))

            return await sync_to_async(read)()

    return BaseHook


class _ConnectionReadInThread:
    """An Airflow 3.0 connection whose ``extra_dejson`` was parsed in the worker thread.

    3.0's ``Connection.extra_dejson`` masks the extras with a blocking call to the triggerer's
    supervisor, which raises inside the event loop ("You cannot use AsyncToSync in the same thread
    as an async event loop"); everything else is the connection's own.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.extra_dejson: dict[str, Any] = connection.extra_dejson

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __repr__(self) -> str:
        return repr(self._connection)


def _conf() -> Any:
    try:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.sdk import conf as sdk_conf
    except ImportError:  # Airflow 3.0, 3.1
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.configuration import conf as core_conf

        return core_conf
    return sdk_conf


def _exception(name: str) -> Callable[[], type[Exception]]:
    def load() -> type[Exception]:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        import airflow.sdk.exceptions

        found = getattr(airflow.sdk.exceptions, name, None)
        if found is None:  # Airflow 3.0, 3.1: the task runner and the base classes use these
            # Airflow version: resolved when first used, from the modules the running Airflow has
            import airflow.exceptions

            found = getattr(airflow.exceptions, name)
        return found  # type: ignore[no-any-return]

    return load


_EXCEPTIONS = (
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "AirflowSensorTimeout",  # raised by BaseSensorOperator.execute
    "TaskDeferralError",  # raised by BaseOperator.resume_execution
    "TaskDeferralTimeout",
)
_LOADERS: dict[str, Callable[[], Any]] = {
    "BaseHook": _base_hook,
    "conf": _conf,
    **{name: _exception(name) for name in _EXCEPTIONS},
}


def __getattr__(name: str) -> Any:
    loader = _LOADERS.get(name)
    if loader is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = loader()
    globals()[name] = value  # resolved once
    return value


# --- hook lineage -------------------------------------------------------------------------------


def hook_lineage_collector() -> Any:
    """Airflow's hook lineage collector: ``airflow.sdk.lineage`` from 3.2, ``airflow.lineage.hook``
    in 3.0 and 3.1 (where ``airflow.sdk.lineage`` does not exist)."""
    try:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.sdk.lineage import get_hook_lineage_collector
    except ImportError:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.lineage.hook import get_hook_lineage_collector  # type: ignore[import-not-found,no-redef,unused-ignore]
    return get_hook_lineage_collector()


# --- secrets in logs ----------------------------------------------------------------------------


def mask_secret(secret: Any, name: str | None = None) -> None:
    """Keep ``secret`` out of task logs (Airflow's ``airflow.sdk.log.mask_secret``)."""
    # Airflow version: resolved when first used, from the modules the running Airflow has
    from airflow.sdk.log import mask_secret as airflow_mask_secret

    airflow_mask_secret(secret, name)


async def amask_secret(secret: Any, name: str | None = None) -> None:
    """:func:`mask_secret` for coroutines such as a trigger's ``run()``.

    3.3 has ``airflow.sdk.log.amask_secret``. Before, the sync ``mask_secret`` would tell the
    triggerer's supervisor with a blocking call from inside the event loop, which fails (3.0, 3.1)
    or needs a portal (3.2); so this does what 3.3 does: mask in this process, then tell the
    supervisor through its async channel, which every 3.x triggerer has and answers.
    """
    try:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.sdk.log import amask_secret as airflow_amask_secret
    except ImportError:  # Airflow < 3.3
        pass
    else:
        await airflow_amask_secret(secret, name)
        return
    if not secret:
        return
    # Airflow version: resolved when first used, from the modules the running Airflow has
    from airflow.sdk.execution_time import task_runner

    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if comms is None or not hasattr(comms, "asend"):
        # No supervisor (dag.test, tests) or a synchronous one (a task process): nothing can block.
        mask_secret(secret, name)
        return
    _local_secrets_masker().add_mask(secret, name)
    try:
        # Airflow version: resolved when first used, from the modules the running Airflow has
        from airflow.sdk.execution_time.comms import MaskSecret

        await comms.asend(MaskSecret(value=secret, name=name))
    except Exception:  # as 3.3: masking locally is what matters most, never fail the caller
        pass


def _local_secrets_masker() -> Any:
    try:  # 3.1, 3.2
        masker = importlib.import_module("airflow.sdk._shared.secrets_masker")._secrets_masker
    except ImportError:  # 3.0
        masker = importlib.import_module("airflow.sdk.execution_time.secrets_masker")._secrets_masker
    return masker()


# --- connection forms before 3.2 ------------------------------------------------------------------


def _connection_type(conn_type: str) -> dict[str, Any]:

    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == conn_type:
            return dict(entry)
    raise KeyError(f"no connection type {conn_type!r} in the provider info")


def with_legacy_connection_form(hook_class: _HookT) -> _HookT:
    """Class decorator for a hook named in ``connection-types``: gives it the classmethods
    ``get_connection_form_widgets`` and ``get_ui_field_behaviour`` that Airflow 3.0 and 3.1 build
    the connection form from, derived from the provider info.

    Airflow reads them only from the hook's own ``__dict__``, hence a decorator, not a mixin;
    3.2 and later find ``conn-fields`` in the provider info and never call them (no deprecation
    warning).
    """

    def get_connection_form_widgets(cls: type[Any]) -> dict[str, Any]:
        return legacy_connection_form_widgets(cls.conn_type)

    def get_ui_field_behaviour(cls: type[Any]) -> dict[str, Any]:
        return legacy_ui_field_behaviour(cls.conn_type)

    for method in (get_connection_form_widgets, get_ui_field_behaviour):
        method.__qualname__ = f"{hook_class.__qualname__}.{method.__name__}"
        setattr(hook_class, method.__name__, classmethod(method))
    return hook_class


def legacy_ui_field_behaviour(conn_type: str) -> dict[str, Any]:
    """``get_ui_field_behaviour()`` for Airflow 3.0 and 3.1, from the provider info's
    ``ui-field-behaviour`` (3.2 and later read that directly and no longer call the hook).
    """
    behaviour = _connection_type(conn_type).get("ui-field-behaviour", {})
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }


def legacy_connection_form_widgets(conn_type: str) -> dict[str, Any]:
    """``get_connection_form_widgets()`` for Airflow 3.0 and 3.1, from the provider info's
    ``conn-fields``: one WTForms field per extra, a password field for ``format: password``.

    The UI of those versions builds its form from these fields (with WTForms stand-ins when the
    FAB provider is absent); 3.0 needs ``wtforms`` installed, else it shows no provider's extras.
    """
    # WTForms has no type information; the UI of 3.1 swaps in stand-ins when it is absent.
    wtforms = importlib.import_module("wtforms")
    validators = importlib.import_module("wtforms.validators")

    widgets: dict[str, Any] = {}
    for name, spec in _connection_type(conn_type).get("conn-fields", {}).items():
        schema = spec.get("schema", {})
        field = wtforms.PasswordField if schema.get("format") == "password" else wtforms.StringField
        checks = [validators.any_of(list(schema["enum"]))] if "enum" in schema else [validators.Optional()]
        widgets[name] = field(
            spec.get("label", name),
            validators=checks,
            description=spec.get("description", ""),
            default=schema.get("default"),
        )
    return widgets


# --- features of newer versions -----------------------------------------------------------------


def airflow_version() -> tuple[int, int, int]:
    """The running Airflow's (major, minor, patch)."""
    # Airflow version: resolved when first used, from the modules the running Airflow has
    from airflow import __version__

    parts = []
    for piece in __version__.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) or "0"
        parts.append(int(digits))
    major, minor, patch = (*parts, 0, 0, 0)[:3]
    return major, minor, patch


def needs_newer_airflow(feature: str, minimum: str, instead: str) -> str:
    """The message for a feature this Airflow lacks, e.g. ``needs_newer_airflow("shared trigger
    streams", "3.3", "each trigger polls on its own")``.
    """
    have = ".".join(map(str, airflow_version()))
    return f"{feature}: needs Airflow {minimum} or later (this is {have}); {instead}"


def shared_trigger_streams_supported() -> bool:
    """Whether event triggers can share one poll loop (``shared_stream_key``, Airflow 3.3)."""
    # Airflow version: resolved when first used, from the modules the running Airflow has
    from airflow.triggers.base import BaseEventTrigger

    return hasattr(BaseEventTrigger, "shared_stream_key")


def trigger_state_supported() -> bool:
    """Whether the triggerer gives event triggers a per-asset state store (Airflow 3.3)."""
    context = importlib.import_module("airflow.sdk.execution_time.context")
    return hasattr(context, "AssetStateStoreAccessors")


def trigger_state_store(trigger: object) -> Any:
    """The triggerer-injected per-asset state store of an event trigger (Airflow 3.3), else None."""
    return getattr(trigger, "asset_state_store", None)
