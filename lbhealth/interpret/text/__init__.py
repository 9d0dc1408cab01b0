"""Reading backend pages: ``decode`` bytes, read ``html`` into lines and rows, find ``markers``."""
