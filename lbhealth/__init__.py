"""lbhealth: one unambiguous health answer per backend node, for load balancers."""

__version__ = "0.1.0"
