"""A receipt printer in software: the ESC/POS emulator."""
