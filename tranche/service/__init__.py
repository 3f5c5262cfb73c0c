"""The service layer: what the command line and the web application share.

Plain Python: opening a scenario by folder or stored id and applying the
store's review cases (:mod:`.workspace`), a recipient's timeline as a document
(:mod:`.timeline`), ad-hoc requests (:mod:`.request`), the demo (:mod:`.demo`),
exports (:mod:`.exports`), charts as SVG (:mod:`.charts`), what a clearance
may see (:mod:`.clearance`) and the store as the service reads it
(:mod:`.desk`).  The web application (FastAPI) is :func:`.app.create_app`, with
one router per resource under :mod:`.api`, authentication in :mod:`.auth`,
HTTP errors in :mod:`.errors` and the pages in :mod:`.pages`; it is imported
only where it is used (`tranche serve`).  The canonical JSON error shape is
:func:`tranche.errors.error_document`.

It may import every layer except ``cli``; nothing below it imports it.
"""

from .demo import DemoRun, demo, find_demo
from .request import request_item, requests_from_json
from .timeline import recipient_of, timeline
from .workspace import CaseView, Workspace

__all__ = ["CaseView", "DemoRun", "Workspace", "demo", "find_demo", "recipient_of", "request_item",
           "requests_from_json", "timeline"]
