"""
The fault drills of ``make drill`` (``bench/drill.py`` runs them and prints the table).

- ``stack``: the processes a drill breaks (Redis, gunicorn, workers, beat);
- ``residents``: residents registering and asking for help, residents due for reminders;
- ``tally``: what residents would notice: registrations, messages (the ledger), order;
- ``report``: a drill's row of the table and its goals;
- ``submissions``: drills during submissions (1 Redis down, 4 database cut, 6 SIGTERM,
  7 order); ``reminders``: drills during reminder runs (2, 3 kill -9, 5 overlapping runs);
- ``beat``: 9, two beats and the one holding the lock killed with kill -9
  (``run_beat_failover``, ``beat_failover``: reusable by other drills);
- ``external``: drills that are scripts of their own (6 ``drill_shutdown.py``, 8 soak);
- the two-node drill (``bench/drill_nodes.py``, ``make drill-nodes``): ``netns`` (the hosts),
  ``nodes`` (their processes, CPU), ``balancer`` (nginx's upstream in the load generator),
  ``two_nodes`` (the load, the faults, the counts), ``nodes_readback`` (run inside a node).
"""

import os

from bench.common import ROOT

VAR = ROOT / "var" / "drill"
LEDGER = VAR / "ledger"
PG_DB = os.environ.get("DRILL_PG_DB", "linli_drill")
STATIONS = ["bench-01", "bench-02", "bench-03"]
SETTINGS = "config.settings.drill"
