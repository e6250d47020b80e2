"""Turns on the plugin's fixtures: ninepic_sandbox, ninepic_client and ninepic_env."""

# Put this line in the conftest.py at the top of your tests: pytest does not accept
# pytest_plugins in the conftest.py of a subfolder.
pytest_plugins = ["nine_pic_async.testing.pytest_plugin"]
