"""A local emulator of the services this provider talks to, for offline development and tests.

``SandboxServer`` runs it inside a test; ``python -m airflow_provider_wa_phones.sandbox`` runs it
as a process. Importing this package stays cheap: the web stack loads only when a sandbox starts.
"""

from airflow_provider_wa_phones.sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
