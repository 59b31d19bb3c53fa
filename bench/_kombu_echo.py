"""The raw baseline's responder: ``python -m bench._kombu_echo AMQP_URI QUEUE``.

The least a request/reply responder can do on RabbitMQ with kombu, in its own
process (so it does not share the requester's GIL): consume ``QUEUE`` (prefetch
64, manual ack), decode the JSON request, publish a reply the size of a
nameko ``ping`` answer to the default exchange with routing key ``reply_to``
and the request's correlation id, then ack. No confirms, no headers, no
worker pool, no database, no framework. Prints ``ready`` once it consumes;
stops on SIGTERM.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from kombu import Connection, Consumer, Exchange, Producer, Queue

DEFAULT_EXCHANGE = Exchange("")
REPLY = json.dumps({"result": {"name": "identity", "version": "0.1.0"}, "error": None})


def serve(amqp_uri: str, queue_name: str) -> None:
    with Connection(amqp_uri, heartbeat=0) as connection:
        connection.connect()
        channel = connection.channel()
        producer = Producer(channel, exchange=DEFAULT_EXCHANGE)

        def on_message(message: Any) -> None:
            json.loads(message.body)
            producer.publish(
                REPLY,
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties["correlation_id"],
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=1,
                retry=False,
            )
            message.ack()

        queue = Queue(
            queue_name, exchange=DEFAULT_EXCHANGE, routing_key=queue_name, auto_delete=True
        )
        consumer = Consumer(channel, queues=[queue], on_message=on_message, prefetch_count=64)
        consumer.consume()
        print("ready", flush=True)
        while True:
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                continue


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    amqp_uri, queue_name = argv
    serve(amqp_uri, queue_name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
