"""Every error of the package survives pickling (process pools, result backends) unchanged."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_wa_phones import exceptions
from airflow_provider_wa_phones.codes import cams_error, nxcloud_error
from airflow_provider_wa_phones.exceptions import (
    AnswerTooLargeError,
    ConnectionConfigError,
    MalformedResponseError,
    ParameterError,
    RedirectError,
    ServiceError,
    TransportError,
    WaPhonesError,
    add_note,
)
from airflow_provider_wa_phones.submits import BatchConflictError


def every_error_class() -> set[type[WaPhonesError]]:
    found: set[type[WaPhonesError]] = set()
    todo = [WaPhonesError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def example_of(cls: type[WaPhonesError]) -> WaPhonesError:
    if issubclass(cls, ServiceError):
        return cls(
            service="NxCloud",
            operation="getPhone",
            code=1003,
            message="invalid signature",
            remedy="check the secret",
            request_id="r-1",
            http_status=400,
            retry_after=1.5,
        )
    examples = {
        WaPhonesError: lambda: WaPhonesError("something"),
        ParameterError: lambda: ParameterError("phones", "at least one phone number is required"),
        ConnectionConfigError: lambda: ConnectionConfigError("nxcloud_default", "login", "is empty"),
        TransportError: lambda: TransportError("no answer", unsent=True),
        MalformedResponseError: lambda: MalformedResponseError("not JSON", retryable=False),
        BatchConflictError: lambda: BatchConflictError("campaign", {"a" * 32, "b" * 32}),
        RedirectError: lambda: RedirectError("moved", status=301, location="https://example.com"),
        AnswerTooLargeError: lambda: AnswerTooLargeError("big", limit=1024, may_have_taken_effect=False),
    }
    return examples[cls]()


@pytest.mark.parametrize(
    "cls", sorted(every_error_class(), key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_every_error_class_survives_pickling_equal(cls):
    error = example_of(cls)
    add_note(error, "a note added on the way up")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls
    assert again == error
    assert str(again) == str(error)
    assert again.__notes__ == ["a note added on the way up"]
    assert vars(again) == vars(error)


def test_the_typed_errors_the_code_tables_build_survive_pickling_too():
    for error in (
        nxcloud_error("numberCheck", 211, "insufficient balance", http_status=200),
        cams_error("QueryChatappPhoneNumbers", "Throttling.User", "flow control", http_status=400),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert (again, again.retryable, again.code) == (error, error.retryable, error.code)


def test_errors_differ_when_they_say_different_things():
    assert ParameterError("phones", "a") != ParameterError("phones", "b")
    assert ParameterError("phones", "a") != ConnectionConfigError("c", "phones", "a")


def test_the_error_hierarchy_is_every_class_the_module_defines():
    defined = {
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and issubclass(value, WaPhonesError)
    }
    assert defined <= every_error_class()


def test_code_tables_imported_from_their_old_path_still_work_with_a_warning():
    from airflow_provider_wa_phones import codes

    with pytest.warns(DeprecationWarning, match="airflow_provider_wa_phones.codes"):
        assert exceptions.CAMS_CODES is codes.CAMS_CODES
    with pytest.raises(AttributeError, match="NoSuchName"):
        exceptions.NoSuchName  # noqa: B018
