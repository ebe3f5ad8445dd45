"""Airflow's own hook lineage collector, switched on for one test, and fsspec's in-memory
filesystem registered as a storage scheme (as a provider registers s3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def collecting(monkeypatch: Any) -> Iterator[Any]:
    """A real ``HookLineageCollector`` as ``get_hook_lineage_collector()`` returns it while this
    lasts: Airflow collects hook lineage when a hook lineage reader plugin is registered, so the
    test registers one (the ``HookLineageReader`` base class)."""
    from airflow.sdk import lineage, plugins_manager

    lineage.get_hook_lineage_collector.cache_clear()
    monkeypatch.setattr(
        plugins_manager, "get_hook_lineage_readers_plugins", lambda: [lineage.HookLineageReader]
    )
    try:
        collector = lineage.get_hook_lineage_collector()
        assert type(collector) is lineage.HookLineageCollector
        yield collector
    finally:
        lineage.get_hook_lineage_collector.cache_clear()


def uris(assets: list[Any]) -> list[str]:
    return [info.asset.uri for info in assets]


@contextmanager
def memory_storage(monkeypatch: Any, bucket: str) -> Iterator[Any]:
    """``memory://<bucket>/...`` opens fsspec's in-memory filesystem through ObjectStoragePath."""
    import fsspec
    from airflow.sdk.io import fs as airflow_fs

    memory = fsspec.filesystem("memory")
    monkeypatch.setitem(airflow_fs._BUILTIN_SCHEME_TO_FS, "memory", lambda conn_id, options=None: memory)
    airflow_fs._register_filesystems.cache_clear()  # filled once per process from that table
    try:
        yield memory
    finally:
        memory.rm(f"/{bucket}", recursive=True)
        airflow_fs._register_filesystems.cache_clear()
