"""Root conftest: hl-testkit's own plugin is loaded through its pytest11 entry point.

Nothing to configure here beyond what pyproject.toml's [tool.pytest.ini_options]
says; the file exists so that pytest's rootdir is the repository root.
"""
