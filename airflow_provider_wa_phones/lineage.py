"""Lineage of what the provider reads and writes, for Airflow and for OpenLineage.

* Hook-level lineage: :func:`record_output_file` tells Airflow's hook lineage collector about the
  file a task finished writing, named as the asset the task publishes (never a ``.partial`` file
  it wrote first).
* OpenLineage: :func:`file_dataset`, :func:`service_dataset` and :func:`operator_lineage` build
  what an operator's ``get_openlineage_facets_on_complete`` returns, or None when the OpenLineage
  provider is not installed.

DAG files import the operators at parse time: everything here loads its Airflow and OpenLineage
modules only when a task calls it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def record_output_file(uri: str, context: Any) -> None:
    """Record the finished file ``uri`` as an output asset of the running task.

    ``context`` is what wrote it (the ``ObjectStoragePath`` of the file), as Airflow's own
    ``ObjectStoragePath`` records it. Nothing is recorded unless hook lineage is collected (a hook
    lineage reader, such as the OpenLineage provider's, is installed).
    """
    # light DAG parsing: the collector loads the providers' asset factories when a task first writes
    from airflow_provider_wa_phones._compat import hook_lineage_collector

    hook_lineage_collector().add_output_asset(context=context, uri=uri)


def file_dataset(target: Any) -> tuple[str, str]:
    """OpenLineage ``(namespace, name)`` of the file at ``target`` (an ``ObjectStoragePath``).

    Object storage: the path's ``namespace`` and ``key`` (``s3://bucket``, ``dir/file.jsonl``), as
    Airflow's ``FileTransferOperator`` names its files. A local file: ``file`` and its absolute
    path (``/data/file.jsonl``), as the file asset's OpenLineage converter (common-io provider)
    names it, so the hook-level lineage and this dataset are one and the same.
    """
    if target.protocol in ("", "file", "local"):
        return "file", os.path.abspath(target.path)
    return str(target.namespace), str(target.key)


def service_dataset(base_url: str, path: str) -> tuple[str, str]:
    """OpenLineage ``(namespace, name)`` of a service endpoint read: the connection's base URL
    (``https://api.nxcloud.com``, or the sandbox's) and the operation's path (``/api/number/query``)."""

    return base_url.rstrip("/"), path


def operator_lineage(inputs: Sequence[tuple[str, str]], outputs: Sequence[tuple[str, str]]) -> Any:
    """An OpenLineage ``OperatorLineage`` of these ``(namespace, name)`` datasets, or None when the
    OpenLineage provider is not installed."""
    try:
        # light DAG parsing: the OpenLineage provider is optional, and loads only to report lineage
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return OperatorLineage(
        inputs=[Dataset(namespace=namespace, name=name) for namespace, name in inputs],
        outputs=[Dataset(namespace=namespace, name=name) for namespace, name in outputs],
    )
