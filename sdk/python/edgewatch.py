"""edgewatch: report inference timings from Python to the edgewatch agent on this device.

One file, standard library only, Python >= 3.8. Copy it next to your code (or put its folder on
PYTHONPATH) and::

    import edgewatch

    with edgewatch.timed("resnet18-int8", batch=8):
        model(x)

    @edgewatch.timed("yolo-n")
    def detect(frame): ...

    edgewatch.record("bert-base", 12.5, tags={"device": "cuda"})

    with edgewatch.experiment("int8 vs fp32", params=11_689_512, model_bytes=46_830_571,
                              warmup_calls=20):
        ...  # timings recorded in here carry the experiment id; each model's first 20 are warm-up
        edgewatch.score("top1", 0.912)               # quality beside speed (better="higher")
        edgewatch.score("WER", 7.3, better="lower")

Wire format (shared/inference.ts in the edgewatch repository): UDP datagrams to 127.0.0.1:7262,
each up to 8 KiB of lines ``ew1 <model> <latency_ms> [b=<batch>] [x=<experiment>] [t=<epoch ms>]
[#<tag>=<value>]...``; or HTTP ``POST /v1/timings`` with ``{"timings": [...]}``. Experiments start
with ``POST /v1/experiments`` (``{"name", "warmup": {"calls": N} | {"ms": N}, ...}``), take scores
with ``POST /v1/experiments/<id>/scores`` (``{"scores": [{"name", "value", "better"}]}``) and end
with ``POST /v1/experiments/<id>/end``.

Warm-up: ``experiment(..., warmup_calls=20)`` marks the first 20 timings of each model as warm-up
(CUDA context, engine build, caches), ``experiment(..., warmup_ms=5000)`` those that end within 5 s
of the start; the agent keeps them apart from the measured figures. Give one or neither; an invalid
warm-up (not a positive whole number of calls up to 1,000,000, or of ms up to a day; both given) is
refused like a bad ``params``: nothing is started and the id is None.

Scores: ``score(name, value, better="higher"|"lower", experiment=...)`` reports a quality figure
(top-1, mAP, WER, perplexity) of the experiment open now (the one ``experiment()`` started, else
``EDGEWATCH_EXPERIMENT``), or of ``experiment=``. It goes over HTTP whatever the transport, at once
and synchronously (so always before the experiment ends), and returns True when the agent took it.
Names are 1-64 characters without control characters (free text: ``<``, ``=``, unicode travel as
they are; showing them safely is the hub's job), values finite numbers (numpy scalars are fine).
A score without an open experiment, an invalid one, or one the agent refused (an unknown or ended
experiment) is dropped and counted in ``stats()``, never raised; a later score of the same name
replaces the earlier one.

What this module promises, and how:

* It never raises into your code. Invalid input (a model name outside ``[A-Za-z0-9_.:/@+-]{1,128}``,
  a negative or non-finite latency, a bad batch or tag) is dropped and counted, not raised.
  Errors of ``timed`` blocks and functions are yours: they pass through untouched, and a call that
  raised is not recorded (only successes are timed).
* It never blocks when the agent is down. UDP goes through a non-blocking socket; a full socket
  buffer or a refused datagram (``ECONNREFUSED``, which Linux reports on a *later* call) drops the
  lines and counts them. HTTP requests (experiments, and timings with ``transport="http"``) have
  a short timeout (0.5 s) and failures are dropped and counted (so a ``score()`` or an experiment
  start or end waits at most that long when the agent hangs); after a failed timings request the
  client waits a second before trying HTTP again. UDP is the transport for hot loops.
* No background thread. ``record()`` appends a line to an in-process buffer (bounded: beyond
  ``max_pending`` = 10,000 lines the oldest are dropped and counted). The buffer is sent as one
  datagram when the next line would not fit in 8 KiB, or by the first ``record()`` that finds the
  oldest buffered line older than ``flush_ms`` (10 ms), or by ``flush()``/``close()``, or at
  interpreter exit (``atexit``). So the last timings of a burst wait for the next call; when one
  has waited longer than a quarter of a second it is sent with its own ``t=`` (epoch ms), so the
  agent still files it under the right second. Call ``edgewatch.flush()`` if you need it now.
* Thread-safe (one lock per client), and fork-safe: a forked child starts with an empty buffer
  and its own socket.

Configuration: ``EDGEWATCH_INFERENCE_PORT`` (default 7262) and ``EDGEWATCH_EXPERIMENT`` (an
experiment id every timing carries, e.g. set by a parent process). ``experiment()`` sets
``EDGEWATCH_EXPERIMENT`` in ``os.environ`` while it is open, so worker processes started inside
it report under the same experiment; when it is already set on entry, ``experiment()`` reuses
that id and neither starts nor ends anything.
"""

import atexit
import contextlib
import functools
import inspect
import json
import math
import operator
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import weakref

__all__ = [
    "Client",
    "record",
    "score",
    "timed",
    "experiment",
    "start_experiment",
    "end_experiment",
    "flush",
    "close",
    "stats",
    "dropped",
    "configure",
    "get_client",
    "MODEL_NAME_RE",
    "EXPERIMENT_ID_RE",
    "SCORE_NAME_RE",
    "encode_line",
]

INFERENCE_DEFAULT_PORT = 7262
MAX_DATAGRAM_BYTES = 8192
MAX_TIMINGS_PER_REQUEST = 10000
# The agent takes HTTP bodies up to 1 MiB; a request stops growing past this.
MAX_HTTP_BODY_BYTES = 900 * 1024
# Copied from shared/inference.ts (the tests check they stay equal).
MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,128}$")
EXPERIMENT_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Score names: free text without control characters, 1-64 code points (as the agent counts them).
SCORE_NAME_RE = re.compile(r"^[^\u0000-\u001f\u007f]{1,64}$")
MAX_TAGS = 32
MAX_TAG_VALUE = 256
MAX_LATENCY_MS = 86400000.0
MAX_BATCH = 1000000
MAX_WARMUP_CALLS = 1000000
MAX_WARMUP_MS = 86400000
# A line that waited longer than this (ms) is sent with its own t=.
STAMP_AFTER_MS = 250.0
# After a failed HTTP timings request, HTTP is not tried again for this long (s).
HTTP_BACKOFF_S = 1.0
# The " t=<13 digits>" a late line may gain.
_T_FIELD_BYTES = 17

_WS = re.compile(r"\s+")
_UNSET = object()


def _env_port():
    raw = os.environ.get("EDGEWATCH_INFERENCE_PORT", "").strip()
    try:
        port = int(raw)
    except ValueError:
        return INFERENCE_DEFAULT_PORT
    return port if 0 < port < 65536 else INFERENCE_DEFAULT_PORT


def _valid_experiment(value):
    # fullmatch: "$" alone would let a trailing newline through.
    return value if isinstance(value, str) and EXPERIMENT_ID_RE.fullmatch(value) else None


def _format_latency(ms):
    # At most 4 decimals (0.1 us): short lines, never exponent notation.
    text = "%.4f" % ms
    return text.rstrip("0").rstrip(".") if "." in text else text


def _clean_tags(tags, for_udp):
    """Tags as the wire wants them: None for none, or raises ValueError when one is invalid."""
    if not tags:
        return None
    items = list(tags.items())
    if len(items) > MAX_TAGS:
        raise ValueError("too many tags")
    out = {}
    for key, value in items:
        if not isinstance(key, str) or not TAG_KEY_RE.fullmatch(key):
            raise ValueError("bad tag key")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise ValueError("bad tag value")
        if for_udp:
            # Whitespace separates UDP fields (the same replacement as formatTimingLine).
            text = _WS.sub("_", text)
        if len(text) > MAX_TAG_VALUE:
            raise ValueError("tag value too long")
        out[key] = text
    return out


def _warmup(calls, ms):
    """The wire's warm-up: None for none, or raises ValueError/TypeError when invalid."""
    if calls is not None and ms is not None:
        raise ValueError("warmup_calls or warmup_ms, not both")
    if calls is not None:
        if isinstance(calls, bool):
            raise TypeError("bad warmup_calls")
        calls = operator.index(calls)
        if not 1 <= calls <= MAX_WARMUP_CALLS:
            raise ValueError("bad warmup_calls")
        return {"calls": calls}
    if ms is not None:
        if isinstance(ms, (bool, str, bytes)):
            raise TypeError("bad warmup_ms")
        ms = float(ms)
        if not math.isfinite(ms):
            raise ValueError("bad warmup_ms")
        ms = int(round(ms))
        if not 1 <= ms <= MAX_WARMUP_MS:
            raise ValueError("bad warmup_ms")
        return {"ms": ms}
    return None


def _score(name, value, better):
    """One score as the wire wants it, or raises ValueError/TypeError/OverflowError when invalid."""
    if not isinstance(name, str) or not SCORE_NAME_RE.fullmatch(name):
        raise ValueError("bad score name")
    if isinstance(value, (bool, str, bytes)):
        raise TypeError("bad score value")
    value = float(value)  # int, float, numpy and torch scalars, Decimal...
    if not math.isfinite(value):
        raise ValueError("bad score value")
    if better is None:
        better = "higher"
    if better not in ("higher", "lower"):
        raise ValueError("better is 'higher' or 'lower'")
    return {"name": name, "value": value, "better": better}


def encode_line(model, latency_ms, batch=None, experiment=None, t=None, tags=None):
    """One timing as a UDP line (inputs already valid); the inverse of parseTimingLine."""
    parts = ["ew1", model, _format_latency(latency_ms)]
    if batch is not None and batch != 1:
        parts.append("b=%d" % batch)
    if experiment is not None:
        parts.append("x=" + experiment)
    if t is not None:
        parts.append("t=%d" % t)
    if tags:
        for key, value in tags.items():
            parts.append("#%s=%s" % (key, value))
    return " ".join(parts)


class Client(object):
    """A reporter to the agent. Every public method is safe to call from any thread and never raises."""

    def __init__(self, host="127.0.0.1", port=None, transport="udp", experiment=_UNSET,
                 flush_ms=10.0, max_pending=10000, timeout=0.5):
        self.host = host or "127.0.0.1"
        self.port = port if isinstance(port, int) and 0 < port < 65536 else _env_port()
        self.transport = "http" if transport == "http" else "udp"
        if experiment is _UNSET:
            experiment = os.environ.get("EDGEWATCH_EXPERIMENT")
        self._base_experiment = _valid_experiment(experiment)
        self.flush_ms = float(flush_ms) if isinstance(flush_ms, (int, float)) and flush_ms >= 0 else 10.0
        self.max_pending = int(max_pending) if isinstance(max_pending, int) and max_pending >= 1 else 10000
        self.timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else 0.5
        self._open = []  # experiments started by this client and not yet ended
        self._sent = 0
        self._dropped = 0
        self._errors = 0
        self._invalid = 0
        self._closed = False
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        self._reset()
        _clients.add(self)

    def _reset(self):
        """Fresh buffer, lock and socket (at creation, and in a forked child)."""
        self._lock = threading.Lock()
        # Entries: (payload, wall_ms, has_t, bytes). payload: a UDP line or a timing dict.
        self._buf = []
        self._buf_bytes = 0
        self._first_at = 0.0
        self._sock = None
        self._sock_failed = False
        self._last_datagram_lines = 0
        self._http_retry_at = 0.0

    # ---- recording ----

    @property
    def experiment(self):
        """The experiment id timings carry now, or None."""
        return self._open[-1] if self._open else self._base_experiment

    def record(self, model, latency_ms, batch=None, tags=None, t=None, experiment=_UNSET):
        """Records one inference call of ``latency_ms`` milliseconds. Never raises, never blocks."""
        try:
            self._record(model, latency_ms, batch, tags, t, experiment)
        except Exception:
            try:
                with self._lock:
                    self._dropped += 1
            except Exception:
                pass

    def _record(self, model, latency_ms, batch, tags, t, experiment):
        if self._closed:
            with self._lock:
                self._dropped += 1
            return
        try:
            if not isinstance(model, str) or not MODEL_NAME_RE.fullmatch(model):
                raise ValueError("bad model")
            if isinstance(latency_ms, bool):
                raise ValueError("bad latency")
            latency = float(latency_ms)
            if not (0.0 <= latency <= MAX_LATENCY_MS):  # also false for NaN
                raise ValueError("bad latency")
            if batch is not None:
                if isinstance(batch, bool):
                    raise ValueError("bad batch")
                batch = operator.index(batch)
                if not 0 < batch <= MAX_BATCH:
                    raise ValueError("bad batch")
            if t is not None:
                t = float(t)
                if not (t >= 0 and math.isfinite(t)):
                    raise ValueError("bad t")
                t = int(round(t))
            if experiment is _UNSET:
                x = self.experiment
            elif experiment is None:
                x = None
            else:
                x = _valid_experiment(experiment)
                if x is None:
                    raise ValueError("bad experiment")
            clean = _clean_tags(tags, self.transport == "udp")
        except (ValueError, TypeError, OverflowError):
            with self._lock:
                self._dropped += 1
                self._invalid += 1
            return

        wall_ms = time.time() * 1000.0
        if self.transport == "udp":
            payload = encode_line(model, latency, batch, x, t, clean)
            size = len(payload.encode("utf-8")) + 1 + (0 if t is not None else _T_FIELD_BYTES)
            if size > MAX_DATAGRAM_BYTES:
                with self._lock:
                    self._dropped += 1
                    self._invalid += 1
                return
        else:
            payload = {"model": model, "latencyMs": round(latency, 4)}
            if batch is not None and batch != 1:
                payload["batch"] = batch
            if x is not None:
                payload["experiment"] = x
            if t is not None:
                payload["t"] = t
            if clean:
                payload["tags"] = clean
            size = 0

        now = time.monotonic()
        with self._lock:
            if self.transport == "udp" and self._buf and self._buf_bytes + size > MAX_DATAGRAM_BYTES:
                self._flush_locked()
            if len(self._buf) >= self.max_pending:
                old = self._buf.pop(0)
                self._buf_bytes -= old[3]
                self._dropped += 1
            if not self._buf:
                self._first_at = now
            self._buf.append((payload, wall_ms, t is not None, size))
            self._buf_bytes += size
            due = (now - self._first_at) * 1000.0 >= self.flush_ms
            if due or (self.transport == "http" and len(self._buf) >= 1000):
                self._flush_locked()

    def timed(self, model, batch=None, tags=None):
        """Context manager and decorator that records the wall time of a block or function call."""
        return _Timed(model, batch, tags, self)

    # ---- scores ----

    def score(self, name, value, better="higher", experiment=_UNSET):
        """Reports a quality score (top-1, WER...) of the open experiment, or of ``experiment``.

        ``better`` is "higher" (default) or "lower". Sent over HTTP now (waits at most
        ``timeout``); True when the agent took it. Never raises: without an experiment, invalid,
        or refused, the score is dropped and counted in ``stats()``.
        """
        try:
            return self._score(name, value, better, experiment)
        except Exception:
            try:
                with self._lock:
                    self._dropped += 1
            except Exception:
                pass
            return False

    def _score(self, name, value, better, experiment):
        if self._closed:
            with self._lock:
                self._dropped += 1
            return False
        try:
            score = _score(name, value, better)
            if experiment is _UNSET:
                exp_id = self.experiment
            elif experiment is None:
                exp_id = None
            else:
                exp_id = _valid_experiment(experiment)
                if exp_id is None:
                    raise ValueError("bad experiment")
            body = json.dumps({"scores": [score]}, allow_nan=False).encode("utf-8")
        except (ValueError, TypeError, OverflowError):
            with self._lock:
                self._dropped += 1
                self._invalid += 1
            return False
        if exp_id is None:
            # No experiment to attach it to.
            with self._lock:
                self._dropped += 1
            return False
        status, _ = self._post("/v1/experiments/%s/scores" % exp_id, body)
        with self._lock:
            if 200 <= status < 300:
                self._sent += 1
                return True
            self._errors += 1
            self._dropped += 1
        return False

    # ---- experiments ----

    def start_experiment(self, name, tags=None, params=None, model_bytes=None, warmup_calls=None, warmup_ms=None):
        """Starts an experiment on the agent: its id, or None (agent down, it refused, or invalid
        arguments). ``warmup_calls=N``: each model's first N timings are warm-up; ``warmup_ms=N``:
        those ending within N ms of the start. Never raises."""
        try:
            if not isinstance(name, str) or not 1 <= len(name) <= 128 or self._closed:
                return None
            body = {"name": name}
            clean = _clean_tags(tags, False)
            if clean:
                body["tags"] = clean
            for key, value in (("params", params), ("modelBytes", model_bytes)):
                if value is None:
                    continue
                value = operator.index(value)
                if value < 0:
                    return None
                body[key] = value
            warmup = _warmup(warmup_calls, warmup_ms)
            if warmup is not None:
                body["warmup"] = warmup
            status, answer = self._post("/v1/experiments", json.dumps(body).encode("utf-8"))
            if not 200 <= status < 300 or not isinstance(answer, dict):
                return None
            exp_id = _valid_experiment(answer.get("id"))
            if exp_id is not None:
                with self._lock:
                    self._open.append(exp_id)
            return exp_id
        except Exception:
            return None

    def end_experiment(self, exp_id):
        """Sends the buffered timings, then ends the experiment: True when the agent confirmed. Never raises."""
        try:
            with self._lock:
                if exp_id in self._open:
                    # The newest occurrence (a list of strings has no rindex).
                    del self._open[len(self._open) - 1 - self._open[::-1].index(exp_id)]
            if _valid_experiment(exp_id) is None:
                return False
            self.flush()
            status, _ = self._post("/v1/experiments/%s/end" % exp_id, b"{}")
            return 200 <= status < 300
        except Exception:
            return False

    @contextlib.contextmanager
    def experiment_context(self, name, tags=None, params=None, model_bytes=None, warmup_calls=None, warmup_ms=None):
        """``with client.experiment_context("name"):`` see module-level ``experiment()``."""
        inherited = _valid_experiment(os.environ.get("EDGEWATCH_EXPERIMENT"))
        if inherited is not None:
            # Started by whoever set the variable (a parent process, an enclosing block): reuse it.
            pushed = inherited != self.experiment
            if pushed:
                with self._lock:
                    self._open.append(inherited)
            try:
                yield inherited
            finally:
                if pushed:
                    with self._lock:
                        if inherited in self._open:
                            self._open.remove(inherited)
            return
        exp_id = self.start_experiment(name, tags, params, model_bytes, warmup_calls, warmup_ms)
        if exp_id is None:
            yield None
            return
        os.environ["EDGEWATCH_EXPERIMENT"] = exp_id
        try:
            yield exp_id
        finally:
            if os.environ.get("EDGEWATCH_EXPERIMENT") == exp_id:
                del os.environ["EDGEWATCH_EXPERIMENT"]
            self.end_experiment(exp_id)

    # ---- sending ----

    def flush(self):
        """Sends everything buffered now. Never raises (HTTP: may wait up to ``timeout``)."""
        try:
            with self._lock:
                self._flush_locked()
        except Exception:
            pass

    def stats(self):
        """{'sent', 'dropped', 'errors', 'invalid', 'pending'}: counts of timings and scores (pending:
        timings only; errors: failed sends)."""
        try:
            with self._lock:
                self._poll_refused()
                return {"sent": self._sent, "dropped": self._dropped, "errors": self._errors,
                        "invalid": self._invalid, "pending": len(self._buf)}
        except Exception:
            return {"sent": 0, "dropped": 0, "errors": 0, "invalid": 0, "pending": 0}

    def dropped(self):
        """Timings and scores that will never reach the agent (invalid, over the bound, refused, failed)."""
        return self.stats()["dropped"]

    def close(self):
        """Flushes and releases the socket; later records are dropped and counted. Never raises."""
        try:
            with self._lock:
                if self._closed:
                    return
                self._flush_locked()
                self._closed = True
                self._poll_refused()
                self._dropped += len(self._buf)
                self._buf = []
                self._buf_bytes = 0
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # Everything below runs with self._lock held.

    def _flush_locked(self):
        if not self._buf:
            return
        entries, self._buf, self._buf_bytes = self._buf, [], 0
        now_ms = time.time() * 1000.0
        if self.transport == "udp":
            self._send_udp(entries, now_ms)
        else:
            self._send_http(entries, now_ms)

    def _socket(self):
        if self._sock is None and not self._sock_failed:
            try:
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.setblocking(False)
                # Connected, so the kernel reports datagrams nobody received (ECONNREFUSED).
                sock.connect((self.host, self.port))
                self._sock = sock
            except Exception:
                self._sock_failed = True
                self._errors += 1
        return self._sock

    def _poll_refused(self):
        """Takes back the previous datagram when the kernel says it was refused (nothing listening)."""
        sock = self._sock
        if sock is None:
            return
        try:
            sock.recv(1)
        except (BlockingIOError, InterruptedError):
            pass
        except ConnectionRefusedError:
            self._errors += 1
            self._sent -= self._last_datagram_lines
            self._dropped += self._last_datagram_lines
            self._last_datagram_lines = 0
        except OSError:
            pass

    def _send_udp(self, entries, now_ms):
        sock = self._socket()
        if sock is None:
            self._dropped += len(entries)
            return
        lines = []
        size = 0
        for payload, wall_ms, has_t, _ in entries:
            if not has_t and now_ms - wall_ms > STAMP_AFTER_MS:
                payload = "%s t=%d" % (payload, int(wall_ms))
            n = len(payload.encode("utf-8")) + 1
            if lines and size + n > MAX_DATAGRAM_BYTES:
                self._send_datagram(sock, lines)
                lines, size = [], 0
            lines.append(payload)
            size += n
        if lines:
            self._send_datagram(sock, lines)

    def _send_datagram(self, sock, lines):
        self._poll_refused()
        data = "\n".join(lines).encode("utf-8")
        try:
            sock.send(data)
            self._sent += len(lines)
            self._last_datagram_lines = len(lines)
        except ConnectionRefusedError:
            # Both the previous datagram (that is what the error is about) and this one are lost.
            self._errors += 1
            self._sent -= self._last_datagram_lines
            self._dropped += self._last_datagram_lines + len(lines)
            self._last_datagram_lines = 0
        except Exception:  # BlockingIOError (socket buffer full), anything else
            self._errors += 1
            self._dropped += len(lines)

    def _send_http(self, entries, now_ms):
        if time.monotonic() < self._http_retry_at:
            self._dropped += len(entries)
            return
        i = 0
        while i < len(entries):
            parts = []
            size = 0
            while i < len(entries) and len(parts) < MAX_TIMINGS_PER_REQUEST and size < MAX_HTTP_BODY_BYTES:
                payload, wall_ms, has_t, _ = entries[i]
                if not has_t and now_ms - wall_ms > STAMP_AFTER_MS:
                    payload = dict(payload, t=int(wall_ms))
                text = json.dumps(payload, separators=(",", ":"))
                parts.append(text)
                size += len(text) + 1
                i += 1
            body = ('{"timings":[' + ",".join(parts) + "]}").encode("utf-8")
            status, answer = self._post("/v1/timings", body)
            if 200 <= status < 300:
                accepted = answer.get("accepted") if isinstance(answer, dict) else None
                ok = accepted if isinstance(accepted, int) and 0 <= accepted <= len(parts) else len(parts)
                self._sent += ok
                self._dropped += len(parts) - ok
            else:
                self._errors += 1
                self._dropped += len(entries) - i + len(parts)
                self._http_retry_at = time.monotonic() + HTTP_BACKOFF_S
                return

    def _post(self, path, body):
        """(status, parsed JSON or None); status 0 when the agent could not be reached in time."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        req = urllib.request.Request(
            "http://%s:%d%s" % (host, self.port, path), data=body, method="POST",
            headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(req, timeout=self.timeout) as res:
                status, raw = res.status, res.read(1 << 20)
        except urllib.error.HTTPError as err:
            try:
                status, raw = err.code, err.read(1 << 20)
            finally:
                err.close()
        except Exception:
            return 0, None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except Exception:
            return status, None


class _Timed(object):
    """What ``timed()`` returns: ``with timed(m) as t:`` (then ``t.ms``) or ``@timed(m)``."""

    def __init__(self, model, batch, tags, client):
        self.model = model
        self.batch = batch
        self.tags = tags
        self.ms = None  # the last measured time, ms
        self._client = client
        self._local = threading.local()

    def _record(self, ms):
        self.ms = ms
        client = self._client if self._client is not None else get_client()
        client.record(self.model, ms, batch=self.batch, tags=self.tags)

    def __enter__(self):
        starts = getattr(self._local, "starts", None)
        if starts is None:
            starts = self._local.starts = []
        starts.append(time.perf_counter())
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            start = self._local.starts.pop()
        except Exception:
            return False
        if exc_type is None:
            self._record((time.perf_counter() - start) * 1000.0)
        return False  # never swallows the block's exception

    def __call__(self, fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def timed_coroutine(*args, **kwargs):
                start = time.perf_counter()
                result = await fn(*args, **kwargs)
                self._record((time.perf_counter() - start) * 1000.0)
                return result
            return timed_coroutine

        @functools.wraps(fn)
        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            self._record((time.perf_counter() - start) * 1000.0)
            return result
        return timed_call


# ---- the default client and module-level helpers ----

_clients = weakref.WeakSet()
_default = None
_default_lock = threading.Lock()


def get_client():
    """The client behind the module-level helpers, created on first use from the environment."""
    global _default
    client = _default
    if client is None:
        with _default_lock:
            if _default is None:
                _default = Client()
            client = _default
    return client


def configure(**options):
    """Replaces the default client: ``configure(transport="http", port=7300)`` (see ``Client``)."""
    global _default
    with _default_lock:
        old, _default = _default, Client(**options)
    if old is not None:
        old.close()
    return _default


def record(model, latency_ms, batch=None, tags=None, t=None):
    """Records one inference call of ``latency_ms`` ms on the default client. Never raises."""
    try:
        get_client().record(model, latency_ms, batch=batch, tags=tags, t=t)
    except Exception:
        pass


def timed(model, batch=None, tags=None):
    """Times a block (``with timed("m"):``) or every call of a function (``@timed("m")``); async
    functions are timed until their result is ready. Only calls that return are recorded."""
    return _Timed(model, batch, tags, None)


def score(name, value, better="higher", experiment=_UNSET):
    """``score("top1", 0.912)``, ``score("WER", 7.3, better="lower")``: a quality score of the open
    experiment (or of ``experiment=<id>``) on the default client. True when the agent took it;
    never raises (dropped and counted without an experiment or when invalid)."""
    try:
        return get_client().score(name, value, better=better, experiment=experiment)
    except Exception:
        return False


def experiment(name, tags=None, params=None, model_bytes=None, warmup_calls=None, warmup_ms=None):
    """``with experiment("int8 vs fp32", params=..., model_bytes=..., warmup_calls=20) as exp_id:``
    starts an experiment (exp_id is None when the agent is down or an argument is invalid), tags
    the timings recorded inside, takes its ``score()`` calls, and ends it on exit. Warm-up: the
    first ``warmup_calls`` timings of each model, or those within ``warmup_ms`` of the start (one
    or neither). Reuses ``EDGEWATCH_EXPERIMENT`` when that is set, without starting or ending."""
    return get_client().experiment_context(name, tags, params, model_bytes, warmup_calls, warmup_ms)


def start_experiment(name, tags=None, params=None, model_bytes=None, warmup_calls=None, warmup_ms=None):
    return get_client().start_experiment(name, tags, params, model_bytes, warmup_calls, warmup_ms)


def end_experiment(exp_id):
    return get_client().end_experiment(exp_id)


def flush():
    if _default is not None:
        _default.flush()


def close():
    if _default is not None:
        _default.close()


def stats():
    return get_client().stats()


def dropped():
    return get_client().dropped()


@atexit.register
def _flush_at_exit():
    for client in list(_clients):
        try:
            client.flush()
        except Exception:
            pass


def _after_fork_in_child():
    for client in list(_clients):
        try:
            # The parent sends what it buffered; the child starts empty, with its own socket.
            client._reset()
        except Exception:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
