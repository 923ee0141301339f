"""The machinery of circlebot: config, storage, queues, text, channels, webhooks, dispatch."""
