"""werkzeug's private names: each one wsgilite reads still exists and means what it meant.

When a werkzeug release renames or reshapes one of them, a test here fails first, naming it;
`src/wsgilite/werkzeug_private.py` is then the one module to change.
"""

from __future__ import annotations

import inspect
import io
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from wsgilite import werkzeug_private
from wsgilite.request import Request

SOURCE = Path(werkzeug_private.__file__).parent


def test_headers_keep_their_pairs_in_a_list_named_list() -> None:
    headers = Headers([("A", "1"), ("B", "2")])

    items = werkzeug_private.header_items(headers)

    assert items == [("A", "1"), ("B", "2")]
    items.append(("C", "3"))  # the live list: werkzeug sees the change
    assert headers.get("C") == "3"
    werkzeug_private.set_header_items(headers, [("D", "4")])
    assert list(headers.items()) == [("D", "4")]


def test_a_response_set_up_by_hand_equals_werkzeugs_own() -> None:
    theirs = WerkzeugResponse(b"body", status=201, headers=[("Content-Type", "text/plain")])
    ours = WerkzeugResponse.__new__(WerkzeugResponse)
    werkzeug_private.init_response(
        ours,
        b"body",
        "201 CREATED",
        201,
        [("Content-Type", "text/plain"), ("Content-Length", "4")],
        direct_passthrough=False,
    )

    assert (ours.status, ours.status_code) == (theirs.status, theirs.status_code)
    assert ours.get_data() == theirs.get_data()
    assert werkzeug_private.plain_parts(ours) == ("201 CREATED", 201, [])
    ours.call_on_close(lambda: None)
    assert len(werkzeug_private.plain_parts(ours)[2]) == 1
    environ = EnvironBuilder().get_environ()
    statuses: list[str] = []
    body = b"".join(ours(environ, lambda status, headers: statuses.append(status)))  # type: ignore[arg-type]
    assert (statuses, body) == (["201 CREATED"], b"body")


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Content-Type", "text/html"), ("Content-Length", "0")],
        [("Content-Length", "0"), ("Content-Type", "text/html"), ("Vary", "Cookie")],
        [("content-length", "7"), ("X-Other-Header", "x")],
        [("Content-Length", "0"), ("X-Long-Name-14", "y"), ("CONTENT-LENGTH", "3"), ("A", "b")],
    ],
)
@pytest.mark.parametrize("automatic", [True, False])
def test_set_body_sets_what_werkzeugs_set_data_sets(
    headers: list[tuple[str, str]], automatic: bool
) -> None:
    theirs = WerkzeugResponse(headers=headers)
    ours = WerkzeugResponse(headers=headers)
    theirs.automatically_set_content_length = ours.automatically_set_content_length = automatic

    theirs.set_data(b"a body")
    werkzeug_private.set_body(ours, b"a body")

    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert ours.response == theirs.response == [b"a body"]


def test_get_data_returns_the_body_cached_by_the_form_reader() -> None:
    environ = EnvironBuilder(method="POST", data=b"never read").get_environ()
    request = WerkzeugRequest(environ)

    assert werkzeug_private.cached_body(request) is None
    werkzeug_private.cache_body(request, b"already read")

    assert request.get_data() == b"already read"
    assert werkzeug_private.cached_body(request) == b"already read"


def test_form_data_parser_still_has_its_multipart_step() -> None:
    step = FormDataParser._parse_multipart
    assert list(inspect.signature(step).parameters) == [
        "self",
        "stream",
        "mimetype",
        "content_length",
        "options",
    ]
    body = b'--b\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n--b--\r\n'
    environ = EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(body),
        content_type="multipart/form-data; boundary=b",
        content_length=len(body),
    ).get_environ()

    assert Request(environ).form["field"] == "value"  # through MultipartHook.parse_multipart


def test_the_reloader_is_where_werkzeug_keeps_it() -> None:
    from werkzeug import _reloader

    assert callable(_reloader.run_with_reloader)
    assert next(iter(inspect.signature(_reloader.run_with_reloader).parameters)) == "main_func"


def test_no_other_module_reads_a_private_name_of_werkzeug() -> None:
    private = re.compile(
        r"\._(list|parts|trace|converters|cached_data|parse_multipart|status|status_code|"
        r"on_close|rules_by_endpoint)\b|werkzeug\._"
    )
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SOURCE.glob("*.py"))
        if path.name != "werkzeug_private.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]

    assert offenders == [], "read werkzeug's private names through wsgilite.werkzeug_private"
