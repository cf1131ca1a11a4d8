"""The newcomer welcome bot for Durham Region: answers newcomers' questions from local knowledge."""

__version__ = "0.1.0"
