"""Bodies: urlencoded parsing, limits on chunked bodies, server read errors as 400s."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from wsgilite.bodies import SafeInput, input_stream, parse_urlencoded, read_body


@given(st.text(alphabet=st.sampled_from("ab=&+%20é%zZ"), max_size=40))
def test_the_fast_urlencoded_parser_agrees_with_parse_qsl(text: str) -> None:
    expected: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        expected.setdefault(name, []).append(value)

    assert parse_urlencoded(text, None).to_dict(flat=False) == expected


def test_too_many_fields_is_413() -> None:
    with pytest.raises(RequestEntityTooLarge):
        parse_urlencoded("a=1&b=2&c=3", 2)


def chunked_environ(body: bytes) -> dict[str, object]:
    return {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True}


def test_a_chunked_body_within_the_limit_is_read_whole() -> None:
    assert input_stream(chunked_environ(b"x" * 100), None, 100).read() == b"x" * 100


def test_a_chunked_body_past_the_limit_is_413() -> None:
    with pytest.raises(RequestEntityTooLarge):
        input_stream(chunked_environ(b"x" * 101), None, 100)


def test_a_body_without_length_or_end_marker_reads_as_empty() -> None:
    assert input_stream({"wsgi.input": io.BytesIO(b"never ends")}, None, None).read() == b""


def test_a_body_is_cut_at_its_content_length() -> None:
    environ = {"wsgi.input": io.BytesIO(b"abcdef"), "CONTENT_LENGTH": "3"}

    assert input_stream(environ, 3, None).read() == b"abc"


def test_any_server_error_while_reading_is_a_400() -> None:
    class ParseException(Exception):  # gunicorn's, which is not an OSError
        pass

    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise ParseException("Invalid chunk size")

        def readline(self, size: int = -1) -> bytes:
            raise ParseException("Invalid chunk size")

    with pytest.raises(BadRequest, match="could not be read"):
        SafeInput(Broken()).read(10)
    with pytest.raises(BadRequest):
        SafeInput(Broken()).readline()


def test_a_body_is_read_whole_from_a_server_giving_short_reads() -> None:
    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size or 1, 3) if size and size > 0 else size)

    environ = {"wsgi.input": Trickle(b"a=1&b=22&c=333"), "CONTENT_LENGTH": "14"}

    assert read_body(environ, 14) == b"a=1&b=22&c=333"


def test_a_body_shorter_than_its_length_is_400() -> None:
    with pytest.raises(BadRequest, match="ended before its Content-Length"):
        read_body({"wsgi.input": io.BytesIO(b"abc")}, 10)
