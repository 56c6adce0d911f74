"""Drop-in replacements for ``rainbond_python`` 1.3.7: change the import, keep the calls.

``from rainbond_python.db_connect import DBConnect`` becomes
``from rainbond_kit.compat.db_connect import DBConnect``. Every module here is a thin adapter
over rainbond-kit's core; none re-implements it. Differences from the original (its bugs,
fixed) are listed in the README's "Migrating from rainbond-python" section.
"""
