"""A secret detector for tests: which credentials of the sandbox's demo accounts occur in a text,
and readers for the places where Airflow keeps what a DAG run produced.

Where Airflow 3.3 keeps task output:

- ``dag.test()`` runs every task in-process (``InProcessTestSupervisor``) and writes **no task log
  file**: the ``task`` logger and every other structlog logger print to the process's stdout
  through a console renderer *without* the secrets masker (``airflow dags test`` does the same).
  That console stream is the task log of a test run, and it is unmasked, so a secret found there
  is one the code itself logged.
- Only the worker path, ``supervise_task(log_path=...)`` (LocalExecutor, Celery, Kubernetes),
  writes task log files: JSON lines, passed through the masker (``airflow.sdk.log.mask_logs``),
  at ``[logging] base_log_folder`` (default ``$AIRFLOW_HOME/logs``) / ``log_filename_template``,
  i.e. ``dag_id=<dag>/run_id=<run>/task_id=<task>/attempt=<n>.log``. :func:`task_log_files`
  makes ``dag.test()`` write those files too, with that same writer.
- The metadata DB holds XCom values (table ``xcom``), rendered template fields
  (``rendered_task_instance_fields``), trigger kwargs (``trigger.kwargs``, Fernet-encrypted when a
  fernet key is set) and the event a trigger sent back (``task_instance.next_kwargs``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from airflow_provider_wa_phones.sandbox import data

#: Every secret the sandbox's demo credentials hold: NxCloud access secrets of all seeded accounts,
#: CAMS AccessKey secrets of all keys (the STS one included) and every STS security token.
SECRETS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *(account["secret"] for account in data.NXCLOUD_ACCOUNTS),
            *(key["secret"] for key in data.CAMS_ACCESS_KEYS),
            *(key["security_token"] for key in data.CAMS_ACCESS_KEYS if key["security_token"]),
        ]
    )
)

_CAMS_SIGNATURE = re.compile(r"Signature=([0-9A-Za-z+/=]+)")


def find_secrets(text: str, extra: Iterable[str] = ()) -> list[str]:
    """Return the secrets (of :data:`SECRETS`, then ``extra``) that occur in ``text``, in that order.

    The comparison ignores case, so a hex signature printed in upper case is found too; empty
    strings in ``extra`` are ignored (they would occur everywhere).
    """
    lowered = text.lower()
    return [secret for secret in dict.fromkeys([*SECRETS, *extra]) if secret and secret.lower() in lowered]


def signatures_seen(server: Any) -> list[str]:
    """Every request signature a :class:`~airflow_provider_wa_phones.sandbox.SandboxServer` received:
    NxCloud ``sign`` headers and the ``Signature=`` part of CAMS ``authorization`` headers."""
    found: list[str] = []
    for request in server.requests():
        if sign := request.headers.get("sign"):
            found.append(sign)
        if match := _CAMS_SIGNATURE.search(request.headers.get("authorization", "")):
            found.append(match.group(1))
    return list(dict.fromkeys(found))


# --- task log files ----------------------------------------------------------------------------


def log_files(airflow_home: str | Path, run_id: str | None = None) -> list[Path]:
    """The task log files under ``$AIRFLOW_HOME/logs`` (of one DAG run when ``run_id`` is given)."""
    root = Path(airflow_home) / "logs"
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and (run_id is None or f"run_id={run_id}" in path.parts)
    )


def collect_airflow_logs(airflow_home: str | Path, run_id: str | None = None) -> str:
    """The text of every task log file under ``$AIRFLOW_HOME/logs``, each after a ``==> path <==`` line."""
    return "".join(
        f"==> {path} <==\n{path.read_text(encoding='utf-8', errors='replace')}\n"
        for path in log_files(airflow_home, run_id)
    )


class _TeeToTaskFile(logging.Handler):
    """Forwards stdlib log records to the running task's log-file logger."""

    def __init__(self, current: list[Any]) -> None:
        super().__init__(logging.INFO)
        self._current = current

    def emit(self, record: logging.LogRecord) -> None:
        if self._current:
            self._current[-1].log(
                record.levelno, record.getMessage(), logger=record.name, exc_info=record.exc_info
            )


@contextlib.contextmanager
def task_log_files() -> Iterator[list[tuple[str, Any]]]:
    """While active, every task ``dag.test()`` runs also logs to the file a worker would write.

    Each task attempt gets the file Airflow's ``log_filename_template`` names under
    ``[logging] base_log_folder``, opened by the supervisor's own writer
    (``supervisor._configure_logging``: JSON lines through ``mask_logs``). Everything logged while
    the task (and its inline trigger) runs goes there, as well as to the console as before.

    Yields a list that receives ``(task_id, TaskRunResult | None)`` for each task run, so a test can
    read the exception a failed task raised (``result.error``).
    """
    import structlog
    from airflow.sdk.definitions import dag as sdk_dag
    from airflow.sdk.execution_time.supervisor import _configure_logging
    from airflow.utils.helpers import log_filename_template_renderer

    render = log_filename_template_renderer()
    current: list[Any] = []
    results: list[tuple[str, Any]] = []
    original_run_task = sdk_dag._run_task

    def run_task(*, ti: Any, task: Any, run_triggerer: bool = False) -> Any:
        logger, handle = _configure_logging(render(ti=ti), client=None)
        current.append(logger)
        try:
            result = original_run_task(ti=ti, task=task, run_triggerer=run_triggerer)
        finally:
            current.pop()
            handle.close()
        results.append((ti.task_id, result))
        return result

    def tee(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if current:
            fields = dict(event_dict)
            event = fields.pop("event", "")
            file_logger = current[-1]
            getattr(file_logger, method_name, file_logger.info)(event, **fields)
        return event_dict

    # Loggers (cached ones too) share structlog's processor list: insert before the final renderer.
    processors = structlog.get_config()["processors"]
    processors.insert(len(processors) - 1, tee)
    handler = _TeeToTaskFile(current)
    logging.getLogger().addHandler(handler)
    sdk_dag._run_task = run_task
    try:
        yield results
    finally:
        sdk_dag._run_task = original_run_task
        logging.getLogger().removeHandler(handler)
        with contextlib.suppress(ValueError):  # gone if something reconfigured structlog meanwhile
            processors.remove(tee)


# --- metadata database -------------------------------------------------------------------------


class Haystack(NamedTuple):
    """Text to search and how many rows it came from."""

    rows: int
    text: str


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def metadata_haystacks(dag_id: str, run_id: str) -> dict[str, Haystack]:
    """What one DAG run left in the metadata DB, as text.

    ``xcom``: every XCom value; ``rendered_fields``: every ``RenderedTaskInstanceFields`` row (fields
    and pod yaml); ``triggers``: the kwargs of every trigger a task of the run deferred to (decrypted,
    and the stored column as is) and each task's ``next_kwargs`` (the trigger's event).
    """
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
        ).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_id, RenderedTaskInstanceFields.run_id == run_id
            )
        ).all()
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        trigger_ids = {ti.trigger_id for ti in tis if ti.trigger_id is not None}
        triggers = session.scalars(select(Trigger).where(Trigger.id.in_(trigger_ids))).all()
        return {
            "xcom": Haystack(len(xcoms), "\n".join(f"{x.task_id} {x.key} {_dump(x.value)}" for x in xcoms)),
            "rendered_fields": Haystack(
                len(rendered),
                "\n".join(
                    f"{r.task_id} {_dump(r.rendered_fields)} {_dump(r.k8s_pod_yaml)}" for r in rendered
                ),
            ),
            "triggers": Haystack(
                len(triggers),
                "\n".join(
                    [
                        *(f"{t.classpath} {_dump(t.kwargs)} {t.encrypted_kwargs}" for t in triggers),
                        *(
                            f"{ti.task_id} next_kwargs {_dump(ti.next_kwargs)}"
                            for ti in tis
                            if ti.next_kwargs
                        ),
                    ]
                ),
            ),
        }
