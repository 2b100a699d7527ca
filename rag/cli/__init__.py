"""The ``newsrag`` command line (typer): ``rag/cli/main.py`` has the commands, ``serve.py`` the app's."""
