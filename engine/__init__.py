"""Alur's engine: SOP diagrams deployed, instances run, tasks routed to people.

SpiffWorkflow is used only inside this package. Public modules:

- :mod:`engine.deploy` — validate and store BPMN files as process definition versions;
- :mod:`engine.instances` — start an SOP, inbox, complete a task, history;
- :mod:`engine.documents` — a step's Output document: checked, attached with the completion;
- :mod:`engine.calendar`, :mod:`engine.waktu` — Waktu (standard time) and due times
  on the civil-service working calendar;
- :mod:`engine.access` — access grants (administrator, analis_proses, auditor);
- :mod:`engine.logins` — login throttling, the login record, server-side login sessions;
- :mod:`engine.database`, :mod:`engine.settings` — setup for callers;
- :mod:`engine.demo` — drive every SOP to its end with the demo users.

Internal: :mod:`engine.state` (workflow state, pruning), :mod:`engine.catalog`
(cached definitions), :mod:`engine.lanes` (lane -> role/team),
:mod:`engine.expressions` (safe conditions), :mod:`engine.sop` (SOP metadata).
"""
