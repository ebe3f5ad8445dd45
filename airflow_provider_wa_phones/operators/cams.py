"""Operators for Alibaba Cloud CAMS: sender numbers and their business profiles.

DAG files import this module at parse time, so it imports only ``airflow.sdk``; the hook, HTTP and
phone-number libraries load when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones.operators.base import CamsTask
from airflow_provider_wa_phones.phones import normalize_phone, snake_case

if TYPE_CHECKING:
    from airflow.sdk import Context


class CamsPhoneNumbersOperator(CamsTask):
    """List the WhatsApp sender numbers of a CAMS space (``QueryChatappPhoneNumbers``).

    :param cust_space_id: the ChatApp space (``CustSpaceId``); defaults to the connection's
        ``cust_space_id``, else the account's own space. Templated.
    :param isv_code: ISV verification code, for ISVs acting for a sub-customer. Templated.
    :param status: only numbers in this status (CONNECTED, PENDING, BANNED, ...). Templated.
    :param cams_conn_id: an ``alibaba_cams`` connection. Templated.

    Returns (XCom) a list of phone records in the provider's common shape (``phone_number``,
    ``display_phone_number``, ``verified_name``, ``status``, ``quality_rating``, ``name_status``,
    ``code_verification_status``, ``messaging_limit_tier``, ``service``) plus CAMS's other fields
    in snake_case (``new_name_status``, ``status_callback_url``, ...).
    """

    template_fields: Sequence[str] = ("cust_space_id", "isv_code", "status", "cams_conn_id")

    def __init__(
        self,
        *,
        cust_space_id: str | None = None,
        isv_code: str | None = None,
        status: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cust_space_id = cust_space_id
        self.isv_code = isv_code
        self.status = status

    def execute(self, context: Context) -> list[dict[str, Any]]:
        records = self.hook.query_phone_records(
            cust_space_id=self.cust_space_id, isv_code=self.isv_code, status=self.status
        )
        self.log.info("CAMS listed %d numbers", len(records))
        return records


class CamsPhoneBusinessProfileOperator(CamsTask):
    """Read the WhatsApp business profile of a sender number (``QueryPhoneBusinessProfile``).

    :param phone_number: the sender number, with country code (``+86 139 0000 1111`` is fine).
        Templated.
    :param cust_space_id: the ChatApp space; defaults to the connection's ``cust_space_id``.
        Templated.
    :param cams_conn_id: an ``alibaba_cams`` connection. Templated.

    Returns (XCom) the profile in snake_case (``address``, ``description``, ``vertical``, ``email``,
    ``profile_picture_url``, ``websites``, ``about``) with ``phone_number`` and ``cust_space_id``.
    """

    template_fields: Sequence[str] = ("phone_number", "cust_space_id", "cams_conn_id")

    def __init__(self, *, phone_number: str, cust_space_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.phone_number = phone_number
        self.cust_space_id = cust_space_id

    def execute(self, context: Context) -> dict[str, Any]:

        data = self.hook.query_phone_business_profile(self.phone_number, cust_space_id=self.cust_space_id)
        profile = {snake_case(key): value for key, value in data.items()}
        profile["phone_number"] = normalize_phone(self.phone_number, "phone_number")
        profile["cust_space_id"] = self.cust_space_id or self.hook.settings.cust_space_id
        return profile
