"""The newcomer welcome bot: answers newcomers' questions from local knowledge."""

__version__ = "0.1.0"
