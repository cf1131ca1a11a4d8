"""The newcomer welcome bot for Durham Region: answers newcomers' questions from a knowledge base."""

__version__ = "0.1.0"
