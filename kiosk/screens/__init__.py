"""Kivy screens: one module plus one kv file per screen, moved between by the navigator."""
