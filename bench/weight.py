"""Page weight: the quiz page and the CSS and JS it links, as a browser that accepts gzip and deflate gets them."""

from __future__ import annotations

import gzip
import re
import urllib.parse
import zlib


def page_weight(member) -> dict:
    """Bytes of the quiz page and the CSS and JS it links: as sent over the wire to a browser that
    accepts gzip and deflate (what Chromium offers over plain HTTP), and uncompressed."""
    offer = {"Accept-Encoding": "gzip, deflate"}
    _, headers, html = member.client.request("GET", member.page, headers=offer)
    page = _decoded(headers, html).decode()
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', page)
    parts = {"quiz page (HTML)": (headers, html)}
    for href in assets:
        status, asset_headers, body = member.client.request("GET", href, headers=offer)
        parts[urllib.parse.urlsplit(href).path] = (asset_headers, body)
    sizes = {name: (len(_decoded(h, body)), len(body)) for name, (h, body) in parts.items()}
    sizes["total"] = (sum(r for r, _ in sizes.values()), sum(w for _, w in sizes.values()))
    encodings = sorted({h.get("Content-Encoding") or "none" for h, _ in parts.values()})
    return {"parts": sizes, "served_encoding": ", ".join(encodings), "questions": len(member.kinds)}


def _decoded(headers, body: bytes) -> bytes:
    encoding = headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body
