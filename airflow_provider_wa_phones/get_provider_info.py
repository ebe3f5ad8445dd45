"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

It is plain data: the Airflow UI builds both connection forms from it without importing a hook.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wa_phones.services import CAMS, NXCLOUD

_NXCLOUD = "NxCloud WhatsApp"
_CAMS = "Alibaba Cloud ChatApp Message Service (CAMS)"
# The README is the how-to guide. The repository address is a placeholder until the project is
# published (the same one as [project.urls] in pyproject.toml).
_README = "https://github.com/wa-phones/airflow-provider-wa-phones/blob/main/README.md"
_HOW_TO = [f"{_README}#{section}" for section in ("quickstart", "sensors", "watching-numbers", "deployment")]


def _modules(kind: str) -> list[dict[str, Any]]:
    """Airflow's convention: the modules holding one kind of component, per integration."""
    return [
        {"integration-name": _NXCLOUD, "python-modules": [f"airflow_provider_wa_phones.{kind}.nxcloud"]},
        {"integration-name": _CAMS, "python-modules": [f"airflow_provider_wa_phones.{kind}.cams"]},
    ]


def get_provider_info() -> dict[str, Any]:
    """Return the provider description, integrations, components and connection types.

    ``airflow providers hooks`` / ``triggers`` and the UI read these lists; sensors and operators
    are listed the way Airflow's own providers list them, module by module.
    """
    return {
        "package-name": "airflow-provider-wa-phones",
        "name": "WhatsApp Business phones (NxCloud, Alibaba Cloud CAMS)",
        "description": "Query and watch WhatsApp Business phone numbers and number-check results "
        "on NxCloud and Alibaba Cloud ChatApp Message Service.",
        "integrations": [
            {
                "integration-name": _NXCLOUD,
                "external-doc-url": "https://github.com/nxtele/nxcloud-doc-en/wiki",
                "how-to-guide": _HOW_TO,
                "tags": ["service"],
            },
            {
                "integration-name": _CAMS,
                "external-doc-url": "https://www.alibabacloud.com/help/en/chatapp",
                "how-to-guide": _HOW_TO,
                "tags": ["alibaba"],
            },
        ],
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "hooks": _modules("hooks"),
        "triggers": _modules("triggers"),
        "connection-types": [
            {
                "connection-type": NXCLOUD.conn_type,
                "hook-class-name": "airflow_provider_wa_phones.hooks.nxcloud.NxCloudHook",
                "hook-name": NXCLOUD.name,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API base URL",
                        "login": "Access key",
                        "password": "Access secret",
                    },
                    "placeholders": {
                        "host": "https://api2.nxcloud.com",
                        "login": "accessKey from the NxCloud console",
                        "password": "accessSecret from the NxCloud console",
                    },
                },
                "conn-fields": {
                    "appkey": {
                        "label": "Appkey",
                        "description": "Default application key; operators can override it per call.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "sign_algorithm": {
                        "label": "Signature algorithm",
                        "description": "Hash used to sign requests (md5 unless NxCloud asked for sha256).",
                        "schema": {"type": "string", "enum": ["md5", "sha256"], "default": "md5"},
                    },
                    "max_answer_bytes": {
                        "label": "Largest answer (bytes)",
                        "description": "Largest answer body read, once decoded: 65536 to 1073741824 "
                        "(empty: 16 MiB). A hook's max_answer_bytes argument wins.",
                        "schema": {"type": ["integer", "null"], "minimum": 65536, "maximum": 1073741824},
                    },
                },
            },
            {
                "connection-type": CAMS.conn_type,
                "hook-class-name": "airflow_provider_wa_phones.hooks.cams.CamsHook",
                "hook-name": CAMS.name,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Endpoint override",
                        "login": "AccessKey ID",
                        "password": "AccessKey secret",
                    },
                    "placeholders": {
                        "host": "leave empty for https://cams.<region>.aliyuncs.com",
                        "login": "LTAI...",
                        "password": "AccessKey secret from the RAM console",
                    },
                },
                "conn-fields": {
                    "region": {
                        "label": "Region",
                        "description": "Region of the CAMS endpoint.",
                        "schema": {"type": "string", "default": "ap-southeast-1"},
                    },
                    "security_token": {
                        "label": "STS security token",
                        "description": "Only for temporary (STS) credentials.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "cust_space_id": {
                        "label": "Default CustSpaceId",
                        "description": "Space ID of the ChatApp instance; operators can override it.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "max_answer_bytes": {
                        "label": "Largest answer (bytes)",
                        "description": "Largest answer body read, once decoded: 65536 to 1073741824 "
                        "(empty: 16 MiB). A hook's max_answer_bytes argument wins.",
                        "schema": {"type": ["integer", "null"], "minimum": 65536, "maximum": 1073741824},
                    },
                },
            },
        ],
    }
