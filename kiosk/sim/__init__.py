"""Everything that stands in for the outside world, for reviewers, tours and tests.

Nothing here runs on a real terminal. The product packages (``kiosk.hardware``,
``kiosk.backend``, ``kiosk.store``, ``kiosk.services``, ``kiosk.admin``, the screens and
widgets) never import it; only the composition root (for ``driver = "simulated"``), the
commands and the tests do, and ``tests/unit/test_layers.py`` holds them to that.

- device emulators on the far side of real transports: ``idcard_emulator`` (a pty),
  ``ratingpad_emulator`` (a pty), ``escpos`` (loopback TCP), ``sscard_card`` / ``vpcd_card``
  (a virtual social-security card, in process or behind a real pcscd);
- ``backend``: the simulated government platform (demo residents, bills, payments,
  certificates) serving the terminal contract on loopback;
- ``demo_data``: the fictional demo residents shared by the cards and the platform;
- ``panel``: the reviewers' simulator panel in the kiosk window;
- ``terminal``: a simulated terminal's config written into a folder, and ``pcscd``: a private
  pcscd with the virtual reader, for the tests and the benchmarks.
"""
