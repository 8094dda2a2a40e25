"""ICB Strategy Assistant. ``from assistant import Assistant`` is the Python API (see assistant.engine)."""


def __getattr__(name: str):
    if name == "Assistant":  # imported on first use: `import assistant.cli` stays light
        from assistant.engine import Assistant

        return Assistant
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
