"""Operators' actions, token required: drain/maint through the API, config reload, request ids."""
