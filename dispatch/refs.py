"""Reference codes short enough to read over the phone: ``BD-7K3Q-92``."""

from __future__ import annotations

import re
import secrets

from boundaries.names import fold, split_kind

# No 0/O, 1/I/L or U/V: letters a caller cannot confuse when reading a code aloud.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
_REF = re.compile(r"^([A-Z]{1,4})-?([2-9A-HJKMNP-TW-Z]{4})-?([0-9]{2})$")


def prefix_for(province_name: str) -> str:
    """Return a province's code prefix: the initials of its name without its type word.

    >>> prefix_for("Tỉnh Bình Dương"), prefix_for("Thành phố Hồ Chí Minh"), prefix_for("Nghệ An")
    ('BD', 'HCM', 'NA')
    """
    words = fold(split_kind(province_name)[1]).split()
    return "".join(word[0] for word in words).upper()[:4] or "YC"


def new_ref(prefix: str) -> str:
    """Return a new random code under a prefix (about 70 million per prefix)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(4))
    return f"{prefix}-{body}-{secrets.randbelow(100):02d}"


def normalise_ref(typed: str) -> str | None:
    """Return the code a person typed in its canonical form, or None when it cannot be one.

    >>> normalise_ref(" bd 7k3q 92 "), normalise_ref("BD-7K3Q-92"), normalise_ref("BD7K3Q92")
    ('BD-7K3Q-92', 'BD-7K3Q-92', 'BD-7K3Q-92')
    >>> normalise_ref("BD-7K3Q"), normalise_ref("x" * 200)
    (None, None)
    """
    compact = re.sub(r"[\s.\-_]", "", typed or "").upper()[:16]
    match = _REF.match(compact[:-6] + "-" + compact[-6:-2] + "-" + compact[-2:]) if len(compact) > 6 else None
    return f"{match[1]}-{match[2]}-{match[3]}" if match else None
