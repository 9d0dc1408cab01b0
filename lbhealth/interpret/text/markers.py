"""Failure markers any page can carry: server error pages and Java exceptions.

Error pages are served with 200 too (custom error pages, ``customErrors``),
and a JSP that catches an exception may print it into a normal page (or into
an HTML comment of one), so the interpreters look for these whatever the
status. An exception is named by its root cause: Tomcat and Jetty wrap it
(``JasperException``, ``ServletException``) and list the cause last.
"""

from __future__ import annotations

import re
import string

from lbhealth.interpret.text.html import Page, summary
from lbhealth.text.clean import shorten

_ERROR_TITLE = re.compile(
    r"""
    .{0,200}?error\s+report\b.{0,100}      # Tomcat / JBoss Web <= 7, EAP 6 "JBWEB000064"
  | http\s+status\s+\d{3}\b.{0,200}          # Tomcat, any version
  | error(?:\s+\d{3}\b.{0,200})?             # Undertow "Error", Jetty "Error 500 ..."
  | [45]\d\d(?:\.\d+)?\b\s*(?:-\s*)?[a-z].{0,200}  # "500 - Internal server error."
  | iis\s+[\d.]+\s+detailed\s+error.{0,200}
  | (?:http\s+)?error\s+\d{3}.{0,200}
  | runtime\s+error | server\s+error | internal\s+server\s+error | bad\s+request.{0,100}
  | service\s+(?:temporarily\s+)?unavailable | bad\s+gateway | gateway\s+time-?out
  | not\s+found | forbidden | access\s+denied | unauthori[sz]ed
  | the\s+page\s+cannot\s+be\s+(?:displayed|found).{0,50}
  | the\s+resource\s+cannot\s+be\s+found\.?
  | (?:compilation|parser|configuration)\s+error
  | jbweb\d+.{0,200}
    """,
    re.I | re.X | re.S,
)
#: Headline phrases of server error pages, matched on lower-cased text. Every
#: pattern starts with a literal, so scanning a 1 MiB page stays a fast search.
_ERROR_PHRASES = tuple(
    re.compile(pattern)
    for pattern in (
        r"-\s*error report\b",  # Tomcat/JBoss Web report heading
        r"type\s+(?:exception|status)\s+report\b",  # Tomcat report body
        r"http status\s+[45]\d\d\b",  # Tomcat <h1>
        r"error processing request",  # Undertow servlet error
        r"server error in\s+'[^'\n]{0,200}'\s+application\b",  # ASP.NET yellow screen
        r"http error\s+[45]\d\d\b",  # IIS detailed error, HTTP.sys
        r"microsoft vbscript\s+(?:runtime|compilation)\s+error\b",  # classic ASP
        r"active server pages\s+error\b",
        # Jasper: "An error occurred at line: [12] in the jsp file: [/x.jsp]" (compile),
        # "An exception occurred processing [/x.jsp] at line [7]" / "JSP page /x.jsp at line 7"
        r"an error occurred at line:?\s*\[?\d+\]?\s+in the (?:jsp|generated java) file",
        r"an exception occurred processing\s+(?:jsp page\s+)?\[?/",
    )
)


def error_page(page: Page) -> str | None:
    """Name the server error page this is (Tomcat, JBoss Web, Undertow, IIS, ASP.NET), if any.

    Such pages are served with 200 too (custom error pages, ``customErrors``),
    so the status alone never proves a page is healthy. Markers are titles
    and headline phrases only, never the bare word "error", which appears in
    form labels and CSS class names of perfectly healthy pages.
    """
    if page.title and _ERROR_TITLE.fullmatch(page.title):
        return summary(page)
    low = page.text.lower()
    # lower() keeps positions except for a few exotic letters; then quote the lower-cased line.
    text = page.text if len(low) == len(page.text) else low
    for pattern in _ERROR_PHRASES:
        match = pattern.search(low)
        if match:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            return shorten(line.replace("\t", " "), 100)
    return None


_JAVA_CHARS = string.ascii_letters + string.digits + "_$."
#: Java scanning looks for the literal tail ("Exception", ".java:12)") and then
#: checks the token before it: a literal search stays fast on any input, where
#: a pattern starting with a character class would crawl over 1 MiB.
_EXCEPTION_TAIL = re.compile(r"(?:Exception|Error)(?![\w$])")
_QUALIFIED = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*")
_BARE = re.compile(
    r"(?:Jasper|NullPointer|ClassCast|IllegalState|IllegalArgument|ArrayIndexOutOfBounds"
    r"|IndexOutOfBounds|Servlet|SQL|OutOfMemory|StackOverflow|NoClassDefFound|ClassNotFound"
    r"|ConcurrentModification|NumberFormat|EJB|Naming|NameNotFound|Remote|Connect)"
    r"(?:Exception|Error)"
)
_FRAME_TAIL = re.compile(r"\((?:[\w$.-]{1,200}\.java:\d{1,7}|Native Method|Unknown Source)\)")
_FRAME_HEAD = re.compile(r"[ \t]*(?:at[ \t]+)?[\w$]+(?:\.[\w$<>]+)+")
_MAX_CANDIDATES = 500


def exception_at(text: str) -> tuple[int, str] | None:
    """Start and name of the first Java exception class in the text.

    A package-qualified class ending in Exception/Error
    ("java.rmi.ConnectException", "Foo$BarError"), or a well-known bare one
    ("JasperException").
    """
    for count, tail in enumerate(_EXCEPTION_TAIL.finditer(text)):
        if count >= _MAX_CANDIDATES:
            break
        before = text[max(tail.start() - 200, 0) : tail.start()]
        token = before[len(before.rstrip(_JAVA_CHARS)) :].lstrip(".")
        name = token + tail.group(0)
        if _QUALIFIED.fullmatch(token) or _BARE.fullmatch(name):
            return tail.start() - len(token), name
    return None


#: Headings a Java cause follows: "Caused by:" (a stack trace, Jetty's page),
#: "Root Cause" (Tomcat's report); the last one names the innermost cause.
_CAUSE_HEADINGS = ("caused by:", "root cause")
_MAX_HEADINGS = 20
#: The cause's class name starts within this many characters after its heading.
_CAUSE_WINDOW = 300


def root_cause_at(text: str) -> tuple[int, str] | None:
    """Start and name of the innermost cause: the exception that directly follows the
    last "Caused by:" or "Root Cause" heading that has one (of the last few of each)."""
    low = text.lower()
    if len(low) != len(text):  # a few exotic letters change length when lower-cased
        return None
    ends: list[int] = []
    for heading in _CAUSE_HEADINGS:
        pos = len(low)
        for _ in range(_MAX_HEADINGS):
            pos = low.rfind(heading, 0, pos)
            if pos < 0:
                break
            ends.append(pos + len(heading))
    for end in sorted(ends, reverse=True):
        window = text[end : end + _CAUSE_WINDOW]
        found = exception_at(window)
        if found and not window[: found[0]].strip():
            return end + found[0], found[1]
    return None


def find_exception(text: str) -> str | None:
    """The Java exception the text carries, root cause first, with a short message; else a
    stack frame."""
    found = root_cause_at(text) or exception_at(text)
    if found:
        start, name = found
        line_end = text.find("\n", start)
        rest = text[start + len(name) : line_end if line_end >= 0 else len(text)]
        message = rest[1:].strip() if rest.startswith(":") else ""
        return shorten(f"{name}: {message}" if message else name, 120)
    for count, tail in enumerate(_FRAME_TAIL.finditer(text)):
        if count >= _MAX_CANDIDATES:
            break
        line_start = text.rfind("\n", max(tail.start() - 300, 0), tail.start()) + 1
        head = text[line_start : tail.start()]
        if _FRAME_HEAD.fullmatch(head):
            return "stack trace " + shorten(head.strip() + tail.group(0), 100)
    return None


def led_by(cause: str | None, what: str) -> str:
    """``what`` (a page summary) led by the exception found, "cause (what)".

    A summary quoting the exception chain itself (Jetty's "Error 500
    javax.servlet.ServletException: ...") is cut before it, so that the
    wrapper is not named after its root cause.
    """
    if not cause:
        return what
    quoted = exception_at(what)
    if quoted is not None:
        what = what[: quoted[0]].rstrip(" :-\u2013")
    return f"{cause} ({what})" if what else cause


#: In a comment, only what a Java stack trace prints counts: a frame
#: ("at pkg.Class.method(File.java:123)") or an exception line
#: ("java.lang.IllegalStateException: message", "Caused by: ..."), each a whole line.
_STRICT_FRAME = re.compile(
    r"[ \t]*at[ \t]+[\w$]+(?:\.[\w$<>]+)+"
    r"\((?:[\w$.-]{1,200}\.java:\d{1,7}|Native Method|Unknown Source)\)[ \t]*"
)
_EXCEPTION_LINE = re.compile(
    r"[ \t]*(?:Caused by:[ \t]*)?(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)(?::[ \t].*)?"
)
_MAX_LINE = 1000


def comment_failure(page: Page) -> str | None:
    """The Java failure an HTML comment of the page carries, root cause first, if any.

    A JSP that catches an exception and prints its stack trace into a comment
    serves an otherwise normal page. Comments also hold commented-out markup
    and notes ("catch (Exception e) moved to ErrorFilter"), so only whole
    lines shaped like a stack trace count.
    """
    signals = [
        line
        for line in page.comments.split("\n")
        if len(line) <= _MAX_LINE
        and (_STRICT_FRAME.fullmatch(line) or _EXCEPTION_LINE.fullmatch(line))
    ]
    if not signals:
        return None
    return find_exception("\n".join(signals))
