"""Runnable examples of nine_pic_async; `tests/test_examples.py` runs each against a sandbox."""
