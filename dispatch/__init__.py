"""Citizens' requests for help and their dispatch to the response teams of each unit.

A request comes in through any door (the public form, an operator taking a call, Open311), is
placed in its commune, routed to the team of the level its kind names, and worked through a
queue (new, assigned, in progress, resolved, closed) with an SLA clock that escalates it a level
up when nobody takes it in time.  Its personal data are read only by officials in scope and are
purged after the retention period; the public sees counts per commune and a follow-up page.
"""
