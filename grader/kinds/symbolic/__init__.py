"""The `symbolic` question kind: its contract in kind.py, everything else it needs beside it."""
