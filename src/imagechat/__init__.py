"""imagechat: self-hostable live image chat."""

__version__ = "0.1.0"
