"""Request bodies: read within the limits, and parsed as forms or JSON, never a 500.

Whatever goes wrong while reading a body is the client's fault: a bad chunk, a cut connection or a
server's own parse error becomes a 400, a body past `MAX_CONTENT_LENGTH` a 413 (also a chunked one,
which has no length to check up front). Urlencoded text is parsed here, fast; multipart stays
werkzeug's, with a buffer small enough for `MAX_FORM_MEMORY_SIZE`. Nothing here knows the App.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException, LengthRequired, RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.wsgi import LimitedStream

from .werkzeug_private import MultipartHook, MultipartResult

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

URLENCODED = "application/x-www-form-urlencoded"
_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 512 * 1024


def unreadable(exc: Exception) -> BadRequest:
    """Return the 400 for a body the server failed to read."""
    return BadRequest(f"the request body could not be read: {type(exc).__name__}")


class SafeInput(io.RawIOBase):
    """`wsgi.input` with any server error while reading turned into a 400."""

    # gunicorn raises its own ParseException (not OSError) for a bad chunk; werkzeug's server
    # raises OSError or ValueError. All of them mean the client sent a broken body.
    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._call(self._raw.read, size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._call(self._raw.readline, size)

    @staticmethod
    def _call(method: Any, size: int | None) -> bytes:
        try:
            return method() if size is None or size < 0 else method(size)  # type: ignore[no-any-return]
        except HTTPException:
            raise
        except Exception as exc:
            raise unreadable(exc) from None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def check_framing(environ: WSGIEnvironment) -> None:
    """Refuse (411) a body declared with Transfer-Encoding that the server did not decode.

    Without `wsgi.input_terminated` (wsgiref, or any server that passes the coding on) the app
    cannot know where such a body ends: reading it as empty would lose it silently, and reading
    to the end could block forever.
    """
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding and coding.strip() and not environ.get("wsgi.input_terminated"):
        raise LengthRequired(
            "this server cannot read a body sent with Transfer-Encoding; send a Content-Length"
        )


def read_limited(environ: WSGIEnvironment, limit: int | None) -> bytes:
    """Read a body of unknown length (chunked) whole, or 413 as soon as it passes `limit`."""
    check_framing(environ)
    if not environ.get("wsgi.input_terminated"):
        return b""  # neither a length nor a terminated input: no body was declared
    source = SafeInput(environ["wsgi.input"])
    if limit is None:
        return source.read()
    parts: list[bytes] = []
    remaining = limit + 1  # one byte past the limit tells whether the body went past it
    while remaining > 0:
        chunk = source.read(min(remaining, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    if remaining <= 0:
        raise RequestEntityTooLarge()
    return b"".join(parts)


def input_stream(
    environ: WSGIEnvironment, length: int | None, max_content_length: int | None
) -> IO[bytes]:
    """Return the body (`length` bytes, None if chunked) as a stream; 413 past the limit."""
    source = cast(IO[bytes], SafeInput(environ["wsgi.input"]))
    if length is not None:
        if max_content_length is not None and length > max_content_length:
            raise RequestEntityTooLarge()
        return cast(IO[bytes], LimitedStream(source, length))
    check_framing(environ)
    if not environ.get("wsgi.input_terminated"):
        return io.BytesIO()  # no length, no Transfer-Encoding: no body was declared
    if max_content_length is None:
        return source
    # A chunked body: read one byte past the limit to know whether it went past it, into memory
    # up to 512 kB and a temporary file beyond.
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - returned
    remaining = max_content_length + 1
    while remaining > 0:
        chunk = source.read(min(remaining, _CHUNK))
        if not chunk:
            break
        spool.write(chunk)
        remaining -= len(chunk)
    if spool.tell() > max_content_length:
        spool.close()
        raise RequestEntityTooLarge()
    spool.seek(0)
    return cast(IO[bytes], spool)


def read_body(environ: WSGIEnvironment, length: int) -> bytes:
    """Read exactly `length` bytes of a body whose length is known, or answer 400."""
    stream = environ["wsgi.input"]
    body = b""
    try:
        while len(body) < length:
            # One read is the rule; a server may return less, so read on until the length.
            chunk = stream.read(length - len(body))
            if not chunk:
                raise BadRequest("the request body ended before its Content-Length")
            body += chunk
    except HTTPException:
        raise
    except Exception as exc:
        raise unreadable(exc) from None
    return body


def _unquote_plus(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        text = unquote(text, "utf-8", "werkzeug.url_quote")
    return text


def parse_urlencoded(text: str, max_fields: int | None) -> ImmutableMultiDict[str, str]:
    """Parse `a=1&b=2` as UTF-8 (bad bytes stay percent-encoded); too many fields is 413."""
    fields = text.split("&")
    if max_fields is not None and len(fields) > max_fields:
        fields = [field for field in fields if field]
        if len(fields) > max_fields:
            raise RequestEntityTooLarge(f"more than {max_fields} form fields")
    # PERF: urllib's parse_qsl unquotes every name and value (~1 µs a field) though most need
    # none: query 12.4 -> 8.9 µs in benchmarks/ (Falcon 8.1).
    # tests/test_bodies.py checks this gives what parse_qsl gives.
    escaped = "%" in text or "+" in text
    lists: dict[str, list[str]] = {}
    for field in fields:
        if not field:
            continue
        name, _, value = field.partition("=")
        if escaped:
            name = _unquote_plus(name)
            value = _unquote_plus(value)
        values = lists.get(name)
        if values is None:
            lists[name] = [value]
        else:
            values.append(value)
    # PERF: a MultiDict is a dict of lists; filling it directly skips its __init__ (a frame, and
    # a call per item).
    result: ImmutableMultiDict[str, str] = ImmutableMultiDict.__new__(ImmutableMultiDict)
    dict.update(result, lists)
    return result


def decode_urlencoded(body: bytes, max_memory: int | None, max_fields: int | None) -> Any:
    """Parse a urlencoded body within the form limits (413 past them)."""
    if max_memory is not None and len(body) > max_memory:
        raise RequestEntityTooLarge()
    return parse_urlencoded(body.decode("utf-8", "werkzeug.url_quote"), max_fields)


class FormParser(MultipartHook):
    """werkzeug's form parser, reading multipart bodies in chunks within the memory limit."""

    # werkzeug's multipart decoder refuses any read chunk larger than max_form_memory_size, even
    # inside a file part: with a 16 KiB limit every file over 64 KiB was a 413.
    def parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> MultipartResult:
        limit = self.max_form_memory_size
        buffer = _CHUNK if limit is None else max(min(_CHUNK, limit // 2), 1)
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=limit,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=buffer,
        )
        boundary = options.get("boundary", "").encode("ascii", "replace")
        if not boundary:
            raise BadRequest("a multipart body needs a boundary in its Content-Type")
        # werkzeug's parser keeps whatever parts it got from a cut or malformed body and says
        # nothing; a body must end with its closing boundary, and every part must have a name.
        watched = _ClosingBoundary(stream, boundary)
        try:
            form, files = parser.parse(cast(IO[bytes], watched), boundary, content_length)
        except ValueError as exc:  # werkzeug's "silent" parser would answer with an empty form
            raise BadRequest(f"the multipart body is malformed: {exc}") from None
        if not watched.seen:
            raise BadRequest("the multipart body is cut short or malformed: no closing boundary")
        if None in form or None in files:
            raise BadRequest("a multipart part has no name in its Content-Disposition")
        return stream, form, files


class _ClosingBoundary:
    """A stream reader that notes whether the multipart closing boundary went past."""

    def __init__(self, stream: IO[bytes], boundary: bytes) -> None:
        self._stream = stream
        self._closing = b"--" + boundary + b"--"
        self._carry = b""
        self.seen = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if not self.seen:
            window = self._carry + data
            self.seen = self._closing in window
            # Keep enough to find a boundary split across two reads.
            self._carry = window[-(len(self._closing) - 1) :]
        return data


class SafeJSON:
    """The json module as werkzeug's Request uses it, with nesting too deep a ValueError."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **options: Any) -> Any:
        """Parse strict JSON; NaN, Infinity, 1e999 or nesting too deep is a ValueError (a 400)."""
        try:
            if not options:
                # PERF: one decoder for every body; json.loads builds one per call for a
                # parse_constant (~1.5 µs).
                if isinstance(text, bytes | bytearray):
                    # An object or array whose second byte is not NUL is UTF-8 (RFC 8259).
                    utf8 = text[:1] in b"{[" and text[1:2] != b"\x00"
                    encoding = "utf-8" if utf8 else json.detect_encoding(text)
                    text = text.decode(encoding, "surrogatepass")
                if text and text[0] not in _SPACE and text[-1] not in _SPACE:
                    # PERF: the C scanner itself; decode() adds two regex scans (~0.5 µs).
                    try:
                        value, end = _SCAN(text, 0)
                    except StopIteration as stop:
                        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
                    if end != len(text):
                        raise json.JSONDecodeError("Extra data", text, end)
                    return value
                return _DECODER.decode(text)
            return json.loads(
                text, **{"parse_constant": _no_constant, "parse_float": _finite_float, **options}
            )
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _finite_float(text: str) -> float:
    # 1e999 and -1E400 are valid JSON numbers that float() turns into infinity, which cannot be
    # sent back as JSON: refused like the Infinity spelled out.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which are not JSON and cannot be sent back as JSON.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]
_SPACE = " \t\n\r"  # JSON's whitespace: a body that starts or ends with it is decoded in full
