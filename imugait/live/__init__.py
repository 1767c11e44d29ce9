"""Live: the flow's stages run while the sensors stream, around the flow.

Modules: ``acquisition`` (N transports → decoders → assembler or recorder, per-sensor status),
``run`` (which sensors to open, Ctrl-C, the stream / record loop), ``guided`` (the guided
assessment battery on live acquisition: prompts, countdowns, checks, redo),
``calibration_guide`` (the guided intrinsic calibration of one live sensor), ``kinematics`` (the
incremental pipeline: samples → angles and strides; ``standing`` its anatomical reference,
``calibration_file`` its calibrations saved between runs), ``dashboard`` (the web dashboard).

``live`` may import every stage and ``io``; it does not import ``emulate`` (an emulation is
handed in as a :data:`~imugait.live.run.SensorOpener`) nor ``cli``.
"""
