"""Unit tests of sdk/python/edgewatch.py, standard library only.

Run: PYTHONPATH=sdk/python python3 -m unittest discover -s test/sdk/python
(test/sdk/python-sdk.test.ts runs this file too, and checks the client against the real agent
receiver; here a plain UDP socket and a tiny HTTP server stand in for the agent.)
"""

import asyncio
import decimal
import fractions
import http.server
import json
import os
import socket
import sys
import threading
import time
import unittest

import edgewatch


def _free_udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    return sock


def _dead_port():
    """A port number nothing listens on (UDP or TCP), as far as one can tell."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _receive_lines(sock, count):
    lines = []
    datagrams = 0
    while len(lines) < count:
        data = sock.recv(65536)
        datagrams += 1
        assert len(data) <= edgewatch.MAX_DATAGRAM_BYTES, len(data)
        lines.extend(data.decode("utf-8").split("\n"))
    return lines, datagrams


class EncodingTest(unittest.TestCase):
    def test_lines_follow_the_wire_format(self):
        self.assertEqual(edgewatch.encode_line("resnet18-int8", 12.37), "ew1 resnet18-int8 12.37")
        self.assertEqual(
            edgewatch.encode_line("m", 0.123456789, batch=8, experiment="x-1", t=1700000000123, tags={"device": "cpu"}),
            "ew1 m 0.1235 b=8 x=x-1 t=1700000000123 #device=cpu",
        )
        self.assertEqual(edgewatch.encode_line("m", 3.0, batch=1), "ew1 m 3")
        self.assertEqual(edgewatch.encode_line("m", 1e-9), "ew1 m 0")
        self.assertEqual(edgewatch.encode_line("m", 86400000), "ew1 m 86400000")

    def test_name_rules_match_the_agent(self):
        for good in ["resnet18-int8", "a/b:c@d+e_f.g", "x" * 128]:
            self.assertTrue(edgewatch.MODEL_NAME_RE.match(good), good)
        for bad in ["", "has space", "x" * 129, "é"]:
            self.assertFalse(edgewatch.MODEL_NAME_RE.match(bad), bad)

    def test_score_names_are_free_text_without_control_characters(self):
        for good in ["top1", "<img src=x onerror=alert(1)>", '=HYPERLINK("http://x","y")', "精度 ✓", "🚀" * 64, "x" * 64]:
            self.assertTrue(edgewatch.SCORE_NAME_RE.fullmatch(good), good)
        for bad in ["", "x" * 65, "tab\there", "new\nline", "trailing\n", "nul\x00", "del\x7f", "esc\x1b[31m"]:
            self.assertFalse(edgewatch.SCORE_NAME_RE.fullmatch(bad), repr(bad))


class UdpClientTest(unittest.TestCase):
    def setUp(self):
        self.agent = _free_udp_socket()
        self.port = self.agent.getsockname()[1]
        self.client = edgewatch.Client(port=self.port, experiment=None)

    def tearDown(self):
        self.client.close()
        self.agent.close()

    def test_batches_lines_into_one_datagram_per_flush(self):
        for i in range(50):
            self.client.record("m", i, batch=2, tags={"k": "two words"})
        self.client.flush()
        lines, datagrams = _receive_lines(self.agent, 50)
        self.assertEqual(datagrams, 1)
        self.assertEqual(lines[0], "ew1 m 0 b=2 #k=two_words")
        self.assertEqual(self.client.stats(), {"sent": 50, "dropped": 0, "errors": 0, "invalid": 0, "pending": 0})

    def test_splits_at_8_kib(self):
        for i in range(2000):
            self.client.record("a-model-name", i)
        self.client.flush()
        lines, datagrams = _receive_lines(self.agent, 2000)
        self.assertEqual(len(lines), 2000)
        self.assertGreaterEqual(datagrams, 3)

    def test_sends_once_flush_ms_has_passed_on_the_next_call(self):
        self.client.record("m", 1)
        time.sleep(0.03)
        self.client.record("m", 2)
        lines, _ = _receive_lines(self.agent, 2)
        self.assertEqual(lines, ["ew1 m 1", "ew1 m 2"])

    def test_a_line_that_waited_long_carries_its_time(self):
        before = int(time.time() * 1000)
        self.client.record("m", 1)
        time.sleep(0.3)
        self.client.flush()
        lines, _ = _receive_lines(self.agent, 1)
        self.assertRegex(lines[0], r"^ew1 m 1 t=\d+$")
        self.assertAlmostEqual(int(lines[0].split("t=")[1]), before, delta=100)

    def test_invalid_input_is_counted_not_raised(self):
        bad = [
            ("has space", 1, {}), ("", 1, {}), (None, 1, {}), ("m", -1, {}), ("m", float("nan"), {}),
            ("m", float("inf"), {}), ("m", "fast", {}), ("m", True, {}), ("m", 1, {"batch": 0}),
            ("m", 1, {"batch": 1.5}), ("m", 1, {"batch": True}), ("m", 1, {"tags": {"bad key": "v"}}),
            ("m", 1, {"tags": {"k": "v" * 257}}), ("m", 1, {"tags": {"k%d" % i: "v" for i in range(33)}}),
            ("m", 1, {"tags": {"k": object()}}), ("m", 1, {"t": -1}), ("m", 1, {"experiment": "not valid!"}),
            # "$" alone matches before a trailing newline: these must not slip through.
            ("m\n", 1, {}), ("m", 1, {"experiment": "x-1\n"}), ("m", 1, {"tags": {"k\n": "v"}}),
        ]
        for model, latency, kwargs in bad:
            self.client.record(model, latency, **kwargs)
        self.client.record("good", 2, tags={"n": 7, "on": True})
        self.client.flush()
        lines, _ = _receive_lines(self.agent, 1)
        self.assertEqual(lines, ["ew1 good 2 #n=7 #on=true"])
        stats = self.client.stats()
        self.assertEqual((stats["dropped"], stats["invalid"], stats["sent"]), (len(bad), len(bad), 1))

    def test_timed_as_context_manager_and_decorator(self):
        with self.client.timed("block", batch=4) as t:
            time.sleep(0.02)
        self.assertGreaterEqual(t.ms, 15)

        @self.client.timed("fn")
        def double(x):
            return 2 * x

        @self.client.timed("coro")
        async def later():
            await asyncio.sleep(0.01)
            return "done"

        self.assertEqual(double(21), 42)
        self.assertEqual(double.__name__, "double")
        self.assertEqual(asyncio.run(later()), "done")

        error = KeyError("mine")
        with self.assertRaises(KeyError) as caught:
            with self.client.timed("failing"):
                raise error
        self.assertIs(caught.exception, error)

        @self.client.timed("failing")
        def fails():
            raise error

        with self.assertRaises(KeyError):
            fails()
        self.client.flush()
        lines, _ = _receive_lines(self.agent, 3)
        self.assertEqual([line.split()[1] for line in lines], ["block", "fn", "coro"])
        self.assertIn(" b=4", lines[0])

    def test_after_close_records_are_dropped(self):
        self.client.close()
        self.client.record("m", 1)
        self.assertEqual(self.client.dropped(), 1)

    def test_threads_share_a_client(self):
        def work():
            for i in range(500):
                self.client.record("threaded", i)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.client.flush()
        lines, _ = _receive_lines(self.agent, 2000)
        self.assertEqual(len(lines), 2000)
        self.assertEqual(self.client.stats()["sent"], 2000)

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_does_not_resend_the_parents_buffer(self):
        self.client.record("parent", 1)
        pid = os.fork()
        if pid == 0:  # the child
            try:
                self.client.record("child", 2)
                self.client.flush()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        self.client.flush()
        lines, _ = _receive_lines(self.agent, 2)
        self.assertEqual(sorted(lines), ["ew1 child 2", "ew1 parent 1"])


class AgentDownTest(unittest.TestCase):
    def test_udp_never_raises_nor_blocks_and_counts_refused_datagrams(self):
        client = edgewatch.Client(port=_dead_port(), experiment=None)
        started = time.monotonic()
        for i in range(10):
            client.record("m", i)
            client.flush()
            time.sleep(0.005)
        self.assertLess(time.monotonic() - started, 2)
        stats = client.stats()
        self.assertGreater(stats["dropped"], 0)
        self.assertGreater(stats["errors"], 0)
        with client.experiment_context("nobody home") as exp_id:
            self.assertIsNone(exp_id)
        self.assertFalse(client.end_experiment("x-nope"))
        client.close()

    def test_scores_never_raise_nor_block_and_are_counted(self):
        client = edgewatch.Client(port=_dead_port(), experiment=None)
        started = time.monotonic()
        self.assertFalse(client.score("top1", 0.9, experiment="x-1"))
        self.assertFalse(client.score("top1", 0.9))  # no experiment
        self.assertFalse(client.score("top1", float("nan"), experiment="x-1"))
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(client.stats(), {"sent": 0, "dropped": 3, "errors": 1, "invalid": 1, "pending": 0})
        client.close()
        self.assertFalse(client.score("top1", 1, experiment="x-1"))
        self.assertEqual(client.dropped(), 4)

    def test_http_failures_are_dropped_quickly(self):
        client = edgewatch.Client(port=_dead_port(), transport="http", experiment=None)
        started = time.monotonic()
        for i in range(5000):
            client.record("m", i)
        client.flush()
        self.assertLess(time.monotonic() - started, 3)
        self.assertEqual(client.stats()["dropped"], 5000)
        client.close()

    def test_a_hung_agent_costs_at_most_the_timeout(self):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # accepts connections, never answers
        try:
            client = edgewatch.Client(port=server.getsockname()[1], transport="http", timeout=0.2, experiment=None)
            started = time.monotonic()
            self.assertIsNone(client.start_experiment("hung"))
            self.assertFalse(client.score("top1", 1, experiment="x-1"))
            client.record("m", 1)
            client.flush()
            self.assertLess(time.monotonic() - started, 2)
            self.assertEqual(client.dropped(), 2)
            client.close()
        finally:
            server.close()


class _Agent(http.server.BaseHTTPRequestHandler):
    """A stand-in for the agent's HTTP side: remembers requests, answers like the agent."""

    requests = []
    open = set()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        _Agent.requests.append((self.path, body))
        if self.path == "/v1/timings":
            self._reply(202, {"accepted": len(body["timings"])})
        elif self.path == "/v1/experiments":
            exp_id = "x-py-%d" % len(_Agent.requests)
            _Agent.open.add(exp_id)
            self._reply(201, {"id": exp_id, "start": 1})
        elif self.path.endswith("/end"):
            exp_id = self.path.split("/")[3]
            _Agent.open.discard(exp_id)
            self._reply(200, {"id": exp_id, "end": 2})
        elif self.path.endswith("/scores"):
            exp_id = self.path.split("/")[3]
            if exp_id in _Agent.open:
                self._reply(200, {"id": exp_id, "scores": len(body["scores"])})
            else:
                self._reply(404, {"error": "no open experiment"})
        else:
            self._reply(404, {"error": "no route"})

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class HttpAndExperimentTest(unittest.TestCase):
    def setUp(self):
        _Agent.requests = []
        _Agent.open = set()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Agent)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.port = self.server.server_address[1]
        self.saved_env = os.environ.pop("EDGEWATCH_EXPERIMENT", None)

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        if self.saved_env is not None:
            os.environ["EDGEWATCH_EXPERIMENT"] = self.saved_env
        else:
            os.environ.pop("EDGEWATCH_EXPERIMENT", None)

    def test_http_batches_and_experiment_context(self):
        client = edgewatch.Client(port=self.port, transport="http", experiment=None)
        client.record("m", 1.5, tags={"k": "two words"})
        with client.experiment_context("run", tags={"q": "int8"}, params=10, model_bytes=20) as exp_id:
            self.assertEqual(exp_id, "x-py-1")
            self.assertEqual(os.environ["EDGEWATCH_EXPERIMENT"], exp_id)
            client.record("m", 2)
            with client.experiment_context("nested") as inner:
                self.assertEqual(inner, exp_id)  # reused, not started
        self.assertNotIn("EDGEWATCH_EXPERIMENT", os.environ)
        client.record("m", 3)
        client.close()
        paths = [path for path, _ in _Agent.requests]
        # The timings recorded inside go out before the end; nothing else is started.
        self.assertEqual(paths, ["/v1/experiments", "/v1/timings", "/v1/experiments/x-py-1/end", "/v1/timings"])
        self.assertEqual(_Agent.requests[0][1], {"name": "run", "tags": {"q": "int8"}, "params": 10, "modelBytes": 20})
        self.assertEqual(_Agent.requests[1][1], {"timings": [
            {"model": "m", "latencyMs": 1.5, "tags": {"k": "two words"}},  # JSON keeps whitespace
            {"model": "m", "latencyMs": 2, "experiment": "x-py-1"},
        ]})
        self.assertEqual(_Agent.requests[3][1], {"timings": [{"model": "m", "latencyMs": 3}]})
        self.assertEqual(client.stats()["sent"], 3)

    def test_scores_and_warm_up(self):
        class Scalar(object):  # what numpy and torch scalars look like to float()
            def __float__(self):
                return 0.25

        hostile = ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil.example","x")', "精度 ✓ 🚀"]
        client = edgewatch.Client(port=self.port, experiment=None)
        with client.experiment_context("scored", warmup_calls=20) as exp_id:
            self.assertTrue(client.score("top1", 0.912))
            self.assertTrue(client.score("WER", 7, better="lower"))
            self.assertTrue(client.score("np", Scalar(), better=None))
            self.assertTrue(client.score("frac", fractions.Fraction(1, 8)))
            self.assertTrue(client.score("dec", decimal.Decimal("0.5")))
            for name in hostile:
                self.assertTrue(client.score(name, -1.5))
        with client.experiment_context("timed", warmup_ms=2500.4) as timed_id:
            pass
        self.assertTrue(client.score("explicit", 1, experiment=exp_id) is False)  # ended: the agent says 404
        client.close()
        self.assertEqual(_Agent.requests[0], ("/v1/experiments", {"name": "scored", "warmup": {"calls": 20}}))
        scores = [body["scores"] for path, body in _Agent.requests if path == "/v1/experiments/%s/scores" % exp_id]
        self.assertEqual(scores, [
            [{"name": "top1", "value": 0.912, "better": "higher"}],
            [{"name": "WER", "value": 7.0, "better": "lower"}],
            [{"name": "np", "value": 0.25, "better": "higher"}],
            [{"name": "frac", "value": 0.125, "better": "higher"}],
            [{"name": "dec", "value": 0.5, "better": "higher"}],
        ] + [[{"name": name, "value": -1.5, "better": "higher"}] for name in hostile] + [
            [{"name": "explicit", "value": 1.0, "better": "higher"}],
        ])
        # Every score made inside the experiment went out before its end; the late one after it.
        paths = [path for path, _ in _Agent.requests]
        end_at = paths.index("/v1/experiments/%s/end" % exp_id)
        self.assertEqual(paths[1:end_at], ["/v1/experiments/%s/scores" % exp_id] * 8)
        self.assertEqual(paths[-1], "/v1/experiments/%s/scores" % exp_id)
        self.assertIn(("/v1/experiments", {"name": "timed", "warmup": {"ms": 2500}}), _Agent.requests)
        self.assertIsNotNone(timed_id)
        self.assertEqual(client.stats(), {"sent": 8, "dropped": 1, "errors": 1, "invalid": 0, "pending": 0})

    def test_invalid_scores_and_warm_ups_are_counted_not_raised(self):
        client = edgewatch.Client(port=self.port, transport="http", experiment=None)
        self.assertFalse(client.score("top1", 0.9))  # no experiment open: dropped, not invalid
        exp_id = client.start_experiment("scored")
        bad = [
            ("top1", float("nan"), {}), ("top1", float("inf"), {}), ("top1", -float("inf"), {}),
            ("top1", "0.9", {}), ("top1", "1e999", {}), ("top1", b"1", {}), ("top1", True, {}),
            ("top1", None, {}), ("top1", 10 ** 400, {}), ("top1", object(), {}), ("top1", [1], {}),
            ("top1", 1, {"better": "more"}), ("top1", 1, {"better": "Higher"}), ("top1", 1, {"better": 1}),
            ("top1", 1, {"experiment": "not valid!"}), ("top1", 1, {"experiment": "x-1\n"}),
            ("", 1, {}), ("x" * 65, 1, {}), ("tab\there", 1, {}), ("trailing\n", 1, {}), ("nul\x00", 1, {}),
            ("del\x7f", 1, {}), (None, 1, {}), (42, 1, {}),
        ]
        for name, value, kwargs in bad:
            self.assertFalse(client.score(name, value, **kwargs), (name, value, kwargs))
        self.assertFalse(client.score("top1", 1, experiment=None))  # explicitly none: dropped
        for kwargs in [{"warmup_calls": 0}, {"warmup_calls": 1.5}, {"warmup_calls": True}, {"warmup_calls": "20"},
                       {"warmup_calls": 1000001}, {"warmup_ms": 0}, {"warmup_ms": float("nan")}, {"warmup_ms": "5s"},
                       {"warmup_ms": 86400001}, {"warmup_calls": 1, "warmup_ms": 1}]:
            self.assertIsNone(client.start_experiment("bad warm-up", **kwargs), kwargs)
            with client.experiment_context("bad warm-up", **kwargs) as none:
                self.assertIsNone(none)
        self.assertTrue(client.score("ok", 1))
        client.close()
        self.assertEqual([path for path, _ in _Agent.requests], ["/v1/experiments", "/v1/experiments/%s/scores" % exp_id])
        self.assertEqual(client.stats(), {"sent": 1, "dropped": len(bad) + 2, "errors": 0, "invalid": len(bad), "pending": 0})

    def test_an_inherited_experiment_is_reused_and_not_ended(self):
        os.environ["EDGEWATCH_EXPERIMENT"] = "x-parent"
        client = edgewatch.Client(port=self.port, transport="http")
        _Agent.open.add("x-parent")
        with client.experiment_context("child", warmup_calls=5) as exp_id:
            self.assertEqual(exp_id, "x-parent")
            client.record("m", 1)
            self.assertTrue(client.score("top1", 0.5))
        client.close()
        self.assertEqual(_Agent.requests, [
            ("/v1/experiments/x-parent/scores", {"scores": [{"name": "top1", "value": 0.5, "better": "higher"}]}),
            ("/v1/timings", {"timings": [{"model": "m", "latencyMs": 1, "experiment": "x-parent"}]}),
        ])


class ModuleHelpersTest(unittest.TestCase):
    def test_configure_record_timed_and_stats(self):
        agent = _free_udp_socket()
        try:
            edgewatch.configure(port=agent.getsockname()[1], experiment=None)
            edgewatch.record("helper", 4, batch=2)

            @edgewatch.timed("helper-fn")
            def f():
                return "ok"

            self.assertEqual(f(), "ok")
            with edgewatch.timed("helper-block"):
                pass
            edgewatch.flush()
            lines, _ = _receive_lines(agent, 3)
            self.assertEqual([line.split()[1] for line in lines], ["helper", "helper-fn", "helper-block"])
            self.assertEqual(edgewatch.stats()["sent"], 3)
            self.assertEqual(edgewatch.dropped(), 0)
        finally:
            edgewatch.close()
            agent.close()


if __name__ == "__main__":
    print("python", sys.version.split()[0])
    unittest.main()
