"""Software for a 24-hour government self-service terminal (政务服务自助终端)."""

__version__ = "0.1.0"
