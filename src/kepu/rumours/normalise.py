"""Text normalisation before matching (placeholder body; final version follows)."""

import unicodedata


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().strip()
