"""moto's server for the local stack, with three fixes for speed and one for a lost message.

1. moto's SQS checks each received message's retention by computing every attribute of its
   queue, counting all messages three times over; a receive from a queue holding a few
   hundred messages then costs about a second, and the local event source mappings starve.
   Here the check reads the retention period alone.
2. A long poll waits "until the queue holds a visible message". In a FIFO queue a visible
   message whose group is in flight cannot be received, so that wait returns at once and
   the poll spins for its whole wait time, holding the interpreter; every other request
   then crawls. Here the wait sleeps until a message is added or 50 ms pass (time alone
   makes messages visible again, without a notification).
3. SQS reads the clock through a datetime subtraction, about 15 microseconds a call, and
   computes every queue attribute (three passes over all messages) several times per sent
   message. Here the clock is `time.time()`: the same value, a hundred times cheaper.
4. Deleting a message rebuilds the queue's message list without the lock that sending
   takes, so a message sent during a delete could vanish (seen: one job in 2,000). Here a
   delete takes the queue's lock.

Nothing else of moto is changed.
"""

import sys
import time

from moto.server import main
from moto.sqs import models as sqs_models
from moto.sqs.models import Queue, SQSBackend

_datetime_unix_time = sqs_models.unix_time


def _unix_time(dt=None):
    return time.time() if dt is None else _datetime_unix_time(dt)


def _unix_time_millis(dt=None):
    return _unix_time(dt) * 1000.0


def _within_retention(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return retain_until > time.time()


def _wait_for_messages(self, timeout):
    with self._messages_lock:
        self._messages_lock.wait(timeout=min(timeout, 0.05))


_unlocked_delete = Queue.delete_message


def _delete_message(self, receipt_handle):
    with self._messages_lock:
        _unlocked_delete(self, receipt_handle)


sqs_models.unix_time = _unix_time
sqs_models.unix_time_millis = _unix_time_millis
SQSBackend.is_message_valid_based_on_retention_period = _within_retention
Queue.wait_for_messages = _wait_for_messages
Queue.delete_message = _delete_message

if __name__ == "__main__":
    sys.exit(main())
