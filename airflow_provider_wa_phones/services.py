"""Who each service is, said once: its name in messages and logs, its Airflow connection type, and
the hook's connection argument with its default.

Hooks, error messages, triggers, phone records and the provider metadata all read these; the module
imports nothing of the package, so DAG files and ``get_provider_info`` may import it for free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """One remote service as Airflow and the messages of this package name it."""

    #: How messages, logs and the Airflow UI name it.
    name: str
    #: The Airflow connection type.
    conn_type: str
    #: The keyword argument of its hooks, operators, sensors and triggers that names a connection.
    conn_id_param: str
    #: The connection used when none is named.
    default_conn_id: str


NXCLOUD = Service("NxCloud", "nxcloud", "nxcloud_conn_id", "nxcloud_default")
CAMS = Service("Alibaba Cloud CAMS", "alibaba_cams", "cams_conn_id", "alibaba_cams_default")

#: How an ``alibaba_cams`` connection gets its keys (its ``auth_type`` extra): stored keys, or one of
#: Alibaba Cloud's credential providers (:mod:`airflow_provider_wa_phones.credentials`).
AUTH_TYPES = ("access_key", "ram_role_arn", "oidc_role_arn", "ecs_ram_role", "credentials_uri", "default")
