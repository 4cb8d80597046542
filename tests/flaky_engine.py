"""A test double around the real engine: records the keys it executes; chosen keys come back as harness errors."""
import dataclasses

from humaneval.engine import Engine


class FlakyEngine:
    """Patch it over humaneval.runner.Engine: `monkeypatch.setattr(runner, "Engine", FlakyEngine({"0"}))`."""

    def __init__(self, broken_keys=(), error_type="HarnessError", error_message="sandbox setup failed"):
        self.broken_keys, self.error_type, self.error_message = set(broken_keys), error_type, error_message
        self.executed: list[str] = []

    def __call__(self, **kwargs):
        self.engine = Engine(**kwargs)
        return self

    def __enter__(self):
        self.engine.__enter__()
        return self

    def start(self):
        self.engine.start()

    def close(self):
        self.engine.close()

    def __exit__(self, *exc):
        return self.engine.__exit__(*exc)

    def run(self, jobs):
        for result in self.engine.run(jobs):
            self.executed.append(result.key)
            if result.key in self.broken_keys:
                result = dataclasses.replace(result, verdict="harness_error", error_type=self.error_type,
                                             error_message=self.error_message)
            yield result
