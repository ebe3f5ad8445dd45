"""The alternatives the provider is measured against, written the way their users write them.

Each baseline signs with its own code (not the provider's signing module), as a team that
hand-writes its glue would.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import requests
from requests.auth import AuthBase

GET_PHONE = "/api/wa/getPhone"


def _nxcloud_sign(key: str, secret: str, action: str, biz_type: str, ts: str, body: bytes) -> str:
    head = f"accessKey={key}&action={action}&bizType={biz_type}&ts={ts}".encode()
    return hashlib.md5(head + b"&body=" + body + f"&accessSecret={secret}".encode()).hexdigest()


class NxCloudSigningAuth(AuthBase):
    """What a user plugs into HttpHook today: ``auth_type=NxCloudSigningAuth``, built as (login, password)."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login, password

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        ts = str(time.time_ns() // 1_000_000)
        action, biz_type = request.headers["action"], request.headers["bizType"]
        request.headers.update(
            {
                "accessKey": self.login,
                "ts": ts,
                "sign": _nxcloud_sign(self.login, self.password, action, biz_type, ts, body),
            }
        )
        return request


def http_hook_get_phone(conn_id: str, appkey: str) -> Any:
    """One getPhone call the HttpHook way: ``HttpHook(...).run(...)`` per call, as in a task."""
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=conn_id, auth_type=NxCloudSigningAuth)
    body = json.dumps({"appkey": appkey, "messaging_product": "whatsapp"}, separators=(",", ":")).encode()
    response = hook.run(
        GET_PHONE,
        data=body,
        headers={"Content-Type": "application/json", "action": "getPhone", "bizType": "2"},
    )
    answer = response.json()
    assert answer["code"] == 0, answer
    return answer["data"]


class TunedNxCloudClient:
    """A careful hand-written client: one keep-alive session, no per-call environment lookups."""

    def __init__(self, base_url: str, key: str, secret: str, appkey: str) -> None:
        self.url = base_url + GET_PHONE
        self.key, self.secret = key, secret
        self.body = json.dumps(
            {"appkey": appkey, "messaging_product": "whatsapp"}, separators=(",", ":")
        ).encode()
        self.session = requests.Session()
        self.session.trust_env = False

    def get_phone(self) -> Any:
        ts = str(time.time_ns() // 1_000_000)
        headers = {
            "Content-Type": "application/json",
            "accessKey": self.key,
            "ts": ts,
            "bizType": "2",
            "action": "getPhone",
            "sign": _nxcloud_sign(self.key, self.secret, "getPhone", "2", ts, self.body),
        }
        answer = self.session.post(self.url, data=self.body, headers=headers, timeout=30).json()
        assert answer["code"] == 0, answer
        return answer["data"]


def cams_sdk_client(port: int, key_id: str, secret: str) -> Any:
    """The official Alibaba Cloud SDK pointed at the sandbox, retries off."""
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{port}",
        protocol="http",
        read_timeout=30000,
        connect_timeout=5000,
    )
    return Client(config)


def cams_sdk_query(client: Any, space: str) -> Any:
    from alibabacloud_cams20200606 import models

    response = client.query_chatapp_phone_numbers(models.QueryChatappPhoneNumbersRequest(cust_space_id=space))
    assert response.body.code == "OK", response.body
    return response.body.phone_numbers
