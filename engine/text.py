"""Text people type into Alur (perihal, catatan, nomor surat, names): what is accepted.

One rule for every caller (web pages, JSON API, command line), applied by the
engine's entry points (``engine.instances.start_instance``, ``complete_task``):

- no control characters (Unicode category Cc: C0, DEL, C1) and no lone
  surrogates (category Cs). They are invisible, corrupt printouts and logs, and
  PostgreSQL refuses NUL in text outright; multi-line text (catatan) may hold
  tab, line feed and carriage return;
- no more characters than the field holds (``TITLE_MAX`` is the width of
  ``process_instance.title``; the others are Alur's own limits).
"""

from __future__ import annotations

import re

from storage.errors import InvalidFieldError

__all__ = ["CATATAN_MAX", "INPUT_TEXT_MAX", "NOMOR_SURAT_MAX", "TITLE_MAX", "check_text", "text_problem"]

TITLE_MAX = 255  # characters: String(255) column
CATATAN_MAX = 4000  # characters
NOMOR_SURAT_MAX = 100  # characters
INPUT_TEXT_MAX = 1000  # characters: any other text of an instance's input data

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """What is wrong with ``value`` as text of at most ``max_length`` characters, or None.

    The answer is a sentence in Bahasa Indonesia then English, e.g. "Memuat
    karakter kendali U+0000 ...". ``multiline`` allows tab, LF and CR.
    """
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is not None:
        code = f"U+{ord(found.group()):04X}"
        if "\ud800" <= found.group() <= "\udfff":
            return f"Memuat surrogate {code} yang tidak sah / contains a lone surrogate {code}"
        return (f"Memuat karakter kendali {code} yang tidak diizinkan / contains the control "
                f"character {code}")
    if len(value) > max_length:
        return f"Paling banyak {max_length} karakter / at most {max_length} characters"
    return None


def check_text(field: str, value: str, *, max_length: int, multiline: bool = False) -> None:
    """Raise ``InvalidFieldError(field, ...)`` when :func:`text_problem` finds something wrong."""
    problem = text_problem(value, max_length=max_length, multiline=multiline)
    if problem is not None:
        raise InvalidFieldError(field, problem)
