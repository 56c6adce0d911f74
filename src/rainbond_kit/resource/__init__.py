"""``ResourceView``: declare a collection and a schema, get a documented, validated REST resource.

``view`` (the class and ``register``), ``routes`` (the generated verbs), ``actions`` (extra
endpoints: ``@action``), ``transitions`` (``TRANSITIONS``, writes conditioned on what was read),
``listing`` (a list request end to end), ``errordocs`` (documented error responses).
"""

from rainbond_kit.resource.actions import action
from rainbond_kit.resource.errordocs import error_responses
from rainbond_kit.resource.view import ALL_OPERATIONS, OPTIONAL_OPERATIONS, ResourceView

__all__ = ["ALL_OPERATIONS", "OPTIONAL_OPERATIONS", "ResourceView", "action", "error_responses"]
