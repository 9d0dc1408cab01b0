"""A simulated EIM/WIM cluster on loopback (``lbhealth demo``), also the tests' backend server."""
