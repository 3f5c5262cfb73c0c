"""The service layer: what the command line and the (coming) HTTP API share.

Plain Python, no terminal or web code: opening a scenario by folder or stored
id and applying the store's review cases (:mod:`.workspace`), a recipient's
timeline as a document (:mod:`.timeline`), ad-hoc requests (:mod:`.request`)
and the demo (:mod:`.demo`).  The
canonical JSON error shape is :func:`tranche.errors.error_document`.

It may import every layer except ``cli``; nothing below it imports it.
"""

from .demo import DemoRun, demo, find_demo
from .request import request_item, requests_from_json
from .timeline import recipient_of, timeline
from .workspace import CaseView, Workspace

__all__ = ["CaseView", "DemoRun", "Workspace", "demo", "find_demo", "recipient_of", "request_item",
           "requests_from_json", "timeline"]
