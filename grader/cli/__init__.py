"""The ``grade`` command: thin click layers over the library API."""
