"""Messages with a head line: an e-mail's subject, an app push's title. The first line of the
rendered template is the head, then a blank line, then the text; the content rules judge the
two together, as the borrower reads them."""

from __future__ import annotations

HEADS = {"email": "subject", "push": "title"}
MAX_SUBJECT = 150  # characters: longer subjects are cut by mail clients, and a figure there is lost


def split(body: str) -> tuple[str, str]:
    """(head, text) of a rendered message."""
    head, _, text = body.partition("\n")
    return head.strip(), text.strip()


def form_problem(body: str, channel: str) -> str | None:
    """Why the rendered text is not of the channel's form, or None. (A push's lengths are the
    gateway's and configured: messages.compose checks them.)"""
    what = HEADS[channel]
    head, _, rest = body.partition("\n")
    if not head.strip():
        return f"the first line is the {what}, and it is empty"
    if channel == "email" and len(head.strip()) > MAX_SUBJECT:
        return f"the subject (the first line) has {len(head.strip())} characters (limit {MAX_SUBJECT})"
    if not rest.startswith("\n") and not rest.startswith("\r\n"):
        return f"the {what} (the first line) is followed by a blank line, then the text"
    if not rest.strip():
        return f"there is no text after the {what} line"
    return None


def push_length(body: str, title_max: int, text_max: int) -> str | None:
    """Why a push is longer than the phone shows it (its title, its text), or None: a longer
    one is blocked, never cut, as a cut could drop the figure or the way to pay."""
    title, text = split(body)
    if len(title) > title_max:
        return f"the push title has {len(title)} characters (limit {title_max}, messaging.push_title_max)"
    if len(text) > text_max:
        return f"the push text has {len(text)} characters (limit {text_max}, messaging.push_text_max)"
    return None
