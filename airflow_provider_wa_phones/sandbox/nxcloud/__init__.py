"""The emulated NxCloud API: rules and state (``models``), authentication (``auth``), HTTP (``routes``)."""
