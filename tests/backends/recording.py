"""A Progress that remembers what an operation reported, for tests to assert on."""

from __future__ import annotations

from clusters.backends.base import Progress


class RecordingProgress(Progress):
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.percents: list[int] = []
        self.remote_jobs: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(message)

    def percent(self, value: int) -> None:
        self.percents.append(value)

    def remote_job(self, job_id: str) -> None:
        self.remote_jobs.append(job_id)

    def has_line(self, text: str) -> bool:
        """Whether a logged line contains `text`."""
        return any(text in line for line in self.lines)
