"""The monitoring daemon client: through the destination policy, a size cap, and a node whose
``/1/report/all`` fails answers the CPU report alone; a silent node is no error."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clusters.backends import mond
from clusters.backends.destinations import DestinationPolicy
from clusters.backends.sample_parse import mond_cpu_percent

CPU_REPORT = {"name": "cpu-avg-load", "data": {"cpu_number": 1, "cpus": [0.5], "cpu_total": 0.5}}
HERE = DestinationPolicy(on_this_machine=True)


class FakeMond(BaseHTTPRequestHandler):
    answers: dict = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body = self.answers.get(self.path, (404, b"no"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_mond():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMond)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_node_whose_report_all_fails_answers_the_cpu_report_alone(fake_mond):
    FakeMond.answers = {
        "/1/report/all": (500, b"A web handler threw an exception."),
        "/1/report/default/cpu-avg-load": (200, json.dumps(CPU_REPORT).encode()),
    }
    port = fake_mond.server_address[1]
    reports = mond.fetch_reports(["127.0.0.1"], HERE, port)
    assert mond_cpu_percent(reports["127.0.0.1"]) == 50.0


def test_an_answer_past_the_size_cap_is_not_read(fake_mond, monkeypatch):
    monkeypatch.setattr(mond, "MAX_ANSWER_BYTES", 1000)
    FakeMond.answers = {"/1/report/all": (200, b"[" + b" " * 5000 + b"]")}
    assert mond.node_reports("127.0.0.1", HERE, fake_mond.server_address[1]) is None


def test_a_loopback_node_of_a_cluster_not_on_this_machine_is_not_asked(fake_mond):
    FakeMond.answers = {"/1/report/all": (200, json.dumps([CPU_REPORT]).encode())}
    port = fake_mond.server_address[1]
    assert mond.node_reports("127.0.0.1", HERE, port) == [CPU_REPORT]
    assert mond.node_reports("127.0.0.1", DestinationPolicy(), port) is None


def test_a_node_without_mond_is_no_error(fake_mond):
    port = fake_mond.server_address[1]
    fake_mond.server_close()  # nothing listens there any more
    assert mond.fetch_reports(["127.0.0.1", ""], HERE, port) == {}
