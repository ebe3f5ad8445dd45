# ruff: noqa: B018, F821 - a vulture whitelist is a list of bare names, never imported or run
"""Names vulture (``make vulture``) cannot see being used: each is read by a caller outside our
code (Python's protocols, pytest, the standard library), not by us. Add a name here only with the
reason beside it; dead code is removed, not listed."""

# Parameters a protocol fixes, which an implementation may not need:
owner  # descriptor protocol: __get__(self, instance, owner) (hooks/base.py, hook_method)
msg  # logging's warning(msg, *args): the retry log Protocol (retry.WarningLog) and test loggers
exc_type  # context-manager protocol: __exit__(self, exc_type, exc, traceback)
traceback  # context-manager protocol, as above
tb  # context-manager protocol, as above (scripts/ui.py)
client_address  # socketserver: BaseRequestHandler(request, client_address, server) (test servers)
task_instance  # the OpenLineage provider's get_openlineage_facets_on_complete(self, task_instance)

# pytest fixtures a test or fixture requests for what they set up, not for their value:
airflow_db  # the test database migrated (tests/dags, tests/integration)
api_env  # Airflow's API server settings in the environment (tests/integration/test_airflow_ui.py)
counting_server  # the property tests' counting server started first (tests/property/conftest.py)
