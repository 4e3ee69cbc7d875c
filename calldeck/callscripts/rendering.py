"""Fill a script's fields ({{ customer.name }}, {{ offer.price }}, ...) for one call.

Only the fields listed here are filled; the text is not a template language, so a script
author cannot reach anything else. Values are escaped for HTML and numbers are masked
for readers who may not see them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

FIELD_RE = re.compile(r"\{\{\s*(customer|offer|agent)\.([a-z_]+)\s*\}\}")


def script_render(body: str, values: Mapping[str, Mapping[str, object]]) -> SafeString:
    """HTML of the script with fields filled; an unknown field stays as written."""
    pieces: list[str] = []
    pos = 0
    for match in FIELD_RE.finditer(body):
        pieces.append(escape(body[pos : match.start()]))
        group, name = match.groups()
        known = values.get(group, {})
        if name in known:
            value = known[name]
            pieces.append(escape("" if value is None else str(value)))
        else:
            pieces.append(escape(match.group(0)))
        pos = match.end()
    pieces.append(escape(body[pos:]))
    # Every piece was escaped above; linebreaks only adds <p> and <br>.
    return mark_safe(linebreaks("".join(pieces)))  # noqa: S308
