"""Journey logic: pure Python, no Kivy."""
