"""Text lbhealth shows: cleaned to one printable line (``clean``), secrets masked (``redact``).

The bottom layer: everything that quotes a backend or an operator goes through here.
"""
