"""moto's server for the local stack, with one fix for speed.

moto's SQS checks each received message's retention by computing every attribute of its
queue, counting all messages three times over; a receive from a queue holding a few
hundred messages then costs about a second, and the local event source mappings starve.
Here the check reads the retention period alone. Nothing else of moto is changed.
"""

import sys

from moto.core.utils import unix_time
from moto.server import main
from moto.sqs.models import SQSBackend


def _within_retention(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return retain_until > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _within_retention

if __name__ == "__main__":
    sys.exit(main())
