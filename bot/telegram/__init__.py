"""The Telegram adapter: thin handlers over the assistant."""
