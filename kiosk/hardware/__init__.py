"""Device adapters: one module family per device, real drivers beside emulated devices.

Nothing here imports kivy. Optional hardware libraries (pyscard, libusb) are imported lazily
so the package imports on a machine without them.
"""
