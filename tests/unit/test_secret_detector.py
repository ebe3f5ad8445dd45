"""The secret detector of ``tests.secrets`` finds what it must, stays quiet on clean text, and the
Airflow masker it is checked against really redacts a registered secret."""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace

from airflow_provider_wa_phones.sandbox import data
from tests.secrets import SECRETS, collect_airflow_logs, find_secrets, log_files, signatures_seen

TASK_LOG = "dag_id=d/run_id=manual__1/task_id=t/attempt=1.log"


def test_secrets_hold_every_demo_credential_and_nothing_public():
    assert set(SECRETS) == {
        data.NXCLOUD_ACCESS_SECRET,
        data.NXCLOUD_BASIC_ACCESS_SECRET,
        data.NXCLOUD_CHECKONLY_ACCESS_SECRET,
        data.CAMS_ACCESS_KEY_SECRET,
        data.CAMS_STS_ACCESS_KEY_SECRET,
        data.CAMS_STS_SECURITY_TOKEN,
        data.CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
        data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
        data.CAMS_INACTIVE_ACCESS_KEY_SECRET,
        data.CAMS_NOCAMS_ACCESS_KEY_SECRET,
        data.CAMS_RAM_DENIED_ACCESS_KEY_SECRET,
    }
    assert data.NXCLOUD_ACCESS_KEY not in SECRETS
    assert data.CAMS_STS_ACCESS_KEY_ID not in SECRETS


def test_a_leaky_log_line_is_reported(tmp_path):
    log_file = tmp_path / "leaky.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    leaky = logging.getLogger("tests.leaky")
    leaky.addHandler(handler)
    leaky.propagate = False
    try:
        leaky.warning("signing getPhone with accessSecret=%s", data.NXCLOUD_ACCESS_SECRET)
    finally:
        leaky.removeHandler(handler)
        handler.close()
    assert find_secrets(log_file.read_text(encoding="utf-8")) == [data.NXCLOUD_ACCESS_SECRET]


def test_the_dag_test_console_is_not_masked_so_a_logged_secret_shows(capsys):
    """dag.test() prints task logs through this unmasked console: the DAG hygiene test sees what
    the code logged, even a secret that mask_secret() registered."""
    import structlog
    from airflow.sdk.log import mask_secret

    mask_secret(data.CAMS_STS_SECURITY_TOKEN)
    structlog.get_logger(logger_name="task").info("token %s", data.CAMS_STS_SECURITY_TOKEN)
    assert find_secrets(capsys.readouterr().out) == [data.CAMS_STS_SECURITY_TOKEN]


def test_extra_values_and_other_cases_are_reported_after_the_demo_secrets():
    signature = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    text = f"Signature={signature.upper()} with {data.CAMS_ACCESS_KEY_SECRET}"
    assert find_secrets(text, [signature, ""]) == [data.CAMS_ACCESS_KEY_SECRET, signature]


def test_clean_text_reports_nothing():
    text = (
        f"accessKey={data.NXCLOUD_ACCESS_KEY} appkey={data.NXCLOUD_APPKEY} "
        f"Credential={data.CAMS_STS_ACCESS_KEY_ID} password=*** phones 8613800001234, 6591110000 "
        "sandbox-nx-access sandbox-cams-sts"
    )
    assert find_secrets(text, ["", "d41d8cd98f00b204e9800998ecf8427e"]) == []
    assert find_secrets("") == []


def test_signatures_seen_reads_nxcloud_sign_and_cams_authorization_headers():
    requests = [
        SimpleNamespace(headers={"sign": "abc123", "accesskey": data.NXCLOUD_ACCESS_KEY}),
        SimpleNamespace(
            headers={"authorization": "ACS3-HMAC-SHA256 Credential=LTAI,SignedHeaders=host,Signature=f00d"}
        ),
        SimpleNamespace(headers={"sign": "abc123"}),
        SimpleNamespace(headers={}),
    ]
    assert signatures_seen(SimpleNamespace(requests=lambda: requests)) == ["abc123", "f00d"]


def test_airflow_masker_redacts_a_registered_secret_in_the_task_log_file(tmp_path, monkeypatch):
    """mask_secret() registers with the masker task log files go through (airflow.sdk.log.mask_logs,
    used by the supervisor's file writer): the line reads ``***`` there, and ``collect_airflow_logs``
    reads it back from where Airflow put it."""
    from airflow.sdk._shared.secrets_masker import redact, reset_secrets_masker
    from airflow.sdk.execution_time.supervisor import _configure_logging
    from airflow.sdk.log import mask_secret

    # A clean masker: earlier tests (the property tests' generated passwords) register values that
    # can be part of this line ("ecret", "calli"), and would hide it before the secret is registered.
    reset_secrets_masker()
    secret = f"unit-test-secret-{uuid.uuid4().hex}"
    line = f"calling with accessSecret={secret}"
    assert redact(line) == line  # not registered yet: nothing hides it
    assert find_secrets(line, [secret]) == [secret]

    mask_secret(secret)
    assert redact(line) == "calling with accessSecret=***"
    assert redact({"headers": {"sign": secret}}) == {"headers": {"sign": "***"}}

    monkeypatch.setenv("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(tmp_path / "logs"))
    logger, handle = _configure_logging(TASK_LOG, client=None)
    try:
        logger.info("calling with accessSecret=%s", secret)
        logger.error("failed", detail={"secret": secret})
    finally:
        handle.close()
    assert [path.relative_to(tmp_path / "logs").as_posix() for path in log_files(tmp_path)] == [TASK_LOG]
    text = collect_airflow_logs(tmp_path)
    assert "calling with accessSecret=***" in text
    assert '"detail":{"secret":"***"}' in text
    assert find_secrets(text, [secret]) == []
