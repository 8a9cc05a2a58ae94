"""The runner: the only process that executes submission code; it sends back data only."""
