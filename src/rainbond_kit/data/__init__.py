"""The data layer: MongoDB documents, stored field names, driver-error translation.

Knows MongoDB (and the Redis driver's errors) and nothing of Flask or the list query language.
"""
