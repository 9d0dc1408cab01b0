"""What a monitor is told: the served state and its HTTP code, prebuilt answers, the fast path.

Everything here reads memory only: a monitor's answer never waits on a
backend, a file or a parser.
"""
