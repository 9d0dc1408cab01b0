"""The healthy JSP pages the probe benchmarks fetch: small (~3.7 KB) and large (~350 KB).

The small page is an EIM/WIM console page as a browser gets it (scripts,
styles, a form and a short table); the large one the same shell around a
report of 2,690 table rows, the size of the issue's measurements. Both are
deterministic, so runs compare; ``CHANGING`` is the large one made different at
every request by nginx.
"""

from __future__ import annotations

_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>Cisco Interaction Manager - Agent Console</title>
<link rel="stylesheet" type="text/css" href="/system/web/css/egain_{n}.css">
<script type="text/javascript" src="/system/web/js/egain_common.js"></script>
<script type="text/javascript">
var eGainContext = {{ path: "/system", locale: "en_US", session: null, build: "11.6.0.1031" }};
function eGainInit() {{ if (window.top !== window) {{ window.top.location = window.location; }}
  document.getElementById("j_username").focus(); }}
</script>
<style>.eg-row td {{ padding: 2px 6px; }} .eg-hidden {{ display: none; }}</style>
</head>
<body onload="eGainInit()">
<div id="eg-header"><img src="/system/web/images/logo.gif" alt="Cisco">
<span>Interaction Manager</span></div>
<div id="eg-main">
<form method="post" action="j_security_check" name="loginForm">
<table class="eg-login" cellspacing="0" cellpadding="0">
<tr><td><label for="j_username">User name</label></td>
<td><input type="text" id="j_username" name="j_username" size="30" maxlength="255"></td></tr>
<tr><td><label for="j_password">Password</label></td>
<td><input type="password" id="j_password" name="j_password" size="30"></td></tr>
<tr><td colspan="2"><span class="error eg-hidden" id="eg-login-error"></span></td></tr>
<tr><td colspan="2"><input type="submit" value="Login" class="eg-button"></td></tr>
</table>
</form>
"""
_ROW = (
    '<tr class="eg-row"><td>{i}</td><td>Activity {i:06d}</td><td>Email</td>'
    "<td>Assigned to agent{agent:03d}</td><td>2024-03-0{day} 10:{minute:02d}</td></tr>\n"
)
_TAIL = """<p class="eg-note">Sessions are kept for 30 minutes of inactivity.
Contact your administrator if you cannot log in.</p>
<noscript>JavaScript is required by the agent console.</noscript>
</div>
<div id="eg-footer">&copy; 2024 Cisco Systems, Inc. All rights reserved. &nbsp;|&nbsp;
<a href="/system/web/view/platform/common/about.jsp">About</a></div>
</body></html>
"""


def page(rows: int) -> bytes:
    """The console page with a report table of ``rows`` rows."""
    table = "".join(
        _ROW.format(i=i, agent=i % 97, day=1 + i % 9, minute=i % 60) for i in range(rows)
    )
    report = '<table class="eg-report">\n<tr><th>#</th><th>Activity</th><th>Type</th>'
    report += f"<th>Status</th><th>Updated</th></tr>\n{table}</table>\n"
    return (_HEAD.format(n=rows) + report + _TAIL).encode()


SMALL = page(14)
LARGE = page(2_690)
#: The large page with an nginx SSI command that prints each request's id: a page that
#: differs at every probe (a report with a timestamp), so no prober can reuse a reading.
CHANGING = LARGE.replace(
    b'<p class="eg-note">', b'<p class="eg-note">Request <!--# echo var="request_id" -->. ', 1
)
