"""The live web dashboard: live knee and hip curves of both legs, the last strides against the
reference bands, sensor health, calibration, recording and step marks, in a browser.

``run`` (:class:`~imugait.live.dashboard.run.LiveDashboard`: sensors → live acquisition → live
pipeline → pages), ``server`` (the Starlette app, the token guard, uvicorn on the run's loop),
``state`` (what the page shows and the JSON it gets), ``bands`` (stride metrics and their bands
from ``imugait/data/thresholds.json``), ``assets/`` (the page; uPlot vendored in
``assets/vendor/uplot``). Starlette, uvicorn and websockets are runtime dependencies.
"""
