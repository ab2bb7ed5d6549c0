"""Keeping secrets out of what a run records: argv, configs, logs and the files pushed to the Hub.

A value is secret when it follows an option whose name says so (``--hub_token X``, ``--hub_token=X``,
``--api_key X``, ...), when it sits under such a key in a mapping, or when it looks like a Hugging Face
token (``hf_`` followed by 20 or more letters and digits) wherever it appears. Credentials in URLs
(``https://user:secret@host``) are masked too. Every secret becomes :data:`REDACTED`.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"
# "hub_token", "token", "api_key", "password", ... but not "tokenizer" or "max_tokens_per_batch".
SECRET_NAME = re.compile(r"(^|_)(token|secret|password|passwd|api_?key|credentials?)($|_)", re.IGNORECASE)
HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@:\s]+):(?P<secret>[^/@\s]+)@")
# Names that contain a secret word but hold no secret (TrainingArguments' token-counting options).
NOT_SECRET = {"average_tokens_across_devices", "include_num_input_tokens_seen", "include_tokens_per_second"}


def is_secret_name(name: str) -> bool:
    name = name.lstrip("-").replace("-", "_")
    return name not in NOT_SECRET and bool(SECRET_NAME.search(name))


def redact_text(text: str) -> str:
    """``text`` with Hub tokens and URL passwords masked."""
    text = HF_TOKEN.sub(REDACTED, text)
    return URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)


def redact_argv(argv: list[str]) -> list[str]:
    """A copy of a command line with the values of secret options and token-like strings masked."""
    out: list[str] = []
    hide_next = False
    for token in argv:
        token = str(token)
        if hide_next and not token.startswith("--"):
            out.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        if token.startswith("-") and "=" in token:
            name, _ = token.split("=", 1)
            out.append(f"{name}={REDACTED}" if is_secret_name(name) else redact_text(token))
            continue
        if token.startswith("--") and is_secret_name(token):
            hide_next = True
        out.append(redact_text(token))
    return out


def redact(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like structure with secret keys' values and token-like strings masked."""
    if key and is_secret_name(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if key == "command" or (value and all(isinstance(v, str) for v in value) and
                                any(str(v).startswith("--") for v in value)):
            return redact_argv(list(value))
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
