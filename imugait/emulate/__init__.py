"""Emulation: simulated people and sensors standing in for hardware, beside the flow.

Nothing in the data flow (``transport`` … ``report``) nor ``live`` imports this package: it
imports the protocol encoder, the simulator and the transports' registration hooks, and the
command line's ``--emulate`` and the tests hand what it builds to the live run.

Modules: ``device`` (the firmware's logic of one sensor, carrier-independent), ``emulator``
(devices on pseudo-terminals or as BLE peripherals, played on a scaled or virtual clock),
``process`` (the serial emulator in a child process), ``pty_pair`` (an emulated serial port with
unplug and replug), ``bluez`` and ``peripheral`` (emulated BlueZ and its GATT peripherals),
``_bluezoo_main`` (BlueZoo with two fixes, run as a child process), ``person`` (the emulated
person of a guided assessment), ``sensors`` (emulations as a live run opens them).
"""
