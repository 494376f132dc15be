"""Compression: gzip, or brotli when its package is installed, as the client's Accept-Encoding asks.

`Compress(app_or_router)` installs an after-hook that compresses a buffered body at once and a
streamed body chunk by chunk (each chunk flushed, so a stream stays a stream). It leaves alone
what must not or need not be compressed: small bodies, types that are compressed already, a body
with a Content-Encoding, HEAD, and answers without a body or with a range. The core never imports
this module; it knows responses, not routing.
"""

from __future__ import annotations

import gzip
import importlib
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .response import Response, add_vary
from .werkzeug_private import header_items

if TYPE_CHECKING:
    from .app import App
    from .request import Request
    from .routes import Router

_brotli: Any
try:  # brotli is optional: pip install brotli
    _brotli = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None

# Text-like types worth compressing; images, video, archives and fonts are compressed already.
COMPRESSIBLE = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/problem+json",
        "application/rss+xml",
        "application/atom+xml",
        "application/wasm",
        "application/xml",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/markdown",
        "text/plain",
        "text/xml",
    }
)
# Bodies shorter than this grow or barely shrink once compressed (gzip adds 18 bytes).
MINIMUM_SIZE = 500


class Compress:
    """Compress answers by Accept-Encoding, on an App or a Router before it is included.

    Compress(app)  # gzip, and brotli if installed, for bodies of 500 bytes or more
    Compress(app, minimum_size=1000, level=5, brotli=False)
    """

    def __init__(
        self,
        target: App | Router,
        *,
        minimum_size: int = MINIMUM_SIZE,
        level: int = 6,
        brotli_quality: int = 4,
        brotli: bool = True,
        mimetypes: Iterable[str] = COMPRESSIBLE,
    ) -> None:
        if not 1 <= level <= 9:
            raise ValueError(f"Compress(level={level}): gzip levels go from 1 (fast) to 9 (small)")
        self.minimum_size = minimum_size
        self.level = level
        self.brotli_quality = brotli_quality
        self.use_brotli = brotli and _brotli is not None
        self.mimetypes = frozenset(mimetypes)
        target.after_request(self.compress)

    def choose(self, request: Request) -> str | None:
        """Return "br", "gzip" or None: the coding the client prefers among those offered."""
        accepted = request.accept_encodings
        gzip_q = accepted.quality("gzip")
        if self.use_brotli:
            brotli_q = accepted.quality("br")
            if brotli_q > 0 and brotli_q >= gzip_q:
                return "br"
        return "gzip" if gzip_q > 0 else None

    def compress(self, request: Request, response: Response) -> Response:
        """Compress `response` if it is worth it and the client accepts it."""
        status = response.status_code
        if status < 200 or status in (204, 206, 304) or response.direct_passthrough:
            return response  # no body, a range, or a file: served as is
        # PERF: one pass over the headers instead of werkzeug's parsing properties (~8 µs).
        mimetype: str | None = None
        length: str | None = None
        for name, value in header_items(response.headers):
            key = name.lower()
            if key == "content-type":
                mimetype = value.partition(";")[0].strip().lower()
            elif key == "content-length":
                length = value
            elif key == "content-encoding" or (key == "cache-control" and "no-transform" in value):
                return response
        if mimetype not in self.mimetypes:
            return response
        streamed = type(response.response) is not list
        if not streamed:
            # A list body werkzeug has not measured yet (Response([...])) is measured here.
            size = response.calculate_content_length() if length is None else None
            if size is None:
                size = int(length) if length is not None and length.isdigit() else 0
            if size < self.minimum_size:
                return response
        # Whether or not this client gets it compressed, the answer depends on Accept-Encoding.
        add_vary(response.headers, "Accept-Encoding")
        if request.method == "HEAD":
            return response
        coding = self.choose(request)
        if coding is None:
            return response
        if streamed:
            response.response = _CompressedStream(response.response, self._compressor(coding))
            response.headers.pop("Content-Length", None)
        else:
            response.set_data(self._compress(response.get_data(), coding))
        response.headers["Content-Encoding"] = coding
        response.headers.pop("Accept-Ranges", None)
        etag, weak = response.get_etag()
        if etag is not None and not weak:
            # Another byte sequence: a strong validator would promise bytes it does not have.
            response.set_etag(etag, weak=True)
        return response

    def _compress(self, data: bytes, coding: str) -> bytes:
        if coding == "br":
            compressed: bytes = _brotli.compress(data, quality=self.brotli_quality)
            return compressed
        return gzip.compress(data, self.level, mtime=0)

    def _compressor(self, coding: str) -> _Compressor:
        if coding == "br":
            return _BrotliCompressor(self.brotli_quality)
        return _GzipCompressor(self.level)


class _Compressor:
    def chunk(self, data: bytes) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError


class _GzipCompressor(_Compressor):
    def __init__(self, level: int) -> None:
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip header and trailer

    def chunk(self, data: bytes) -> bytes:
        # A sync flush per chunk: the client can decode each chunk as it arrives.
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._zlib.flush(zlib.Z_FINISH)


class _BrotliCompressor(_Compressor):
    def __init__(self, quality: int) -> None:
        self._brotli: Any = _brotli.Compressor(quality=quality)

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data)) + bytes(self._brotli.flush())

    def finish(self) -> bytes:
        return bytes(self._brotli.finish())


class _CompressedStream:
    """A streamed body compressed chunk by chunk; `close()` reaches the handler's iterator."""

    def __init__(self, chunks: Iterable[bytes | str], compressor: _Compressor) -> None:
        self._chunks = chunks
        self._compressor = compressor

    def __iter__(self) -> Iterator[bytes]:
        compressor = self._compressor
        for chunk in self._chunks:
            data = chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk
            if data:
                yield compressor.chunk(data)
        yield compressor.finish()

    def close(self) -> None:
        """Close the handler's iterator (its `finally` runs when the client goes away)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
