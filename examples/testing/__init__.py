"""An example of testing your own code against the sandbox with the pytest plugin."""
