"""The Slack adapter: the Bolt app and its listeners, the notifier, approver identities, and the
Block Kit views. Every decision and vote goes through the server's core; nothing here decides."""
