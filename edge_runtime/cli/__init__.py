"""The ``edge-seg`` command line: thin click commands over the library."""
