"""The fleet console: server-rendered pages for technicians and supervisors."""
