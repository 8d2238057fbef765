"""moto's server for the local stack, with five fixes for speed and one for a lost message.

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
4. Sending a message reads one flag of its queue (content-based deduplication) through the
   queue's full attribute map, which counts every message three times over: a batch of
   ten sent to a queue holding a few hundred jobs cost 40% of the server's time. Here the
   map computes an attribute when it is read; GetQueueAttributes still gets every count.
5. Every request finds its service by listing moto's package folder and testing each entry
   for being a folder (about 15% of the server's time under load). The folder does not
   change while the server runs; here it is listed once.
6. Deleting a message rebuilds the queue's message list without the lock that sending
   takes, so a message sent during a delete could vanish (seen: one job in 2,000). Here a
   delete takes the queue's lock.

Nothing else of moto is changed.
"""

import functools
import sys
import time
from collections.abc import Mapping

from moto.server import main
from moto.sqs import models as sqs_models
from moto import backends
from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue, SQSBackend

_datetime_unix_time = sqs_models.unix_time
_list_of_moto_modules = backends.list_of_moto_modules


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


_every_attribute = Queue.attributes.fget


class _AttributesOnRead(Mapping):
    """A queue's attributes, each computed when read; iterating computes them all."""

    def __init__(self, queue):
        self._queue = queue

    def __getitem__(self, name):
        queue = self._queue
        if name in ("Policy", "RedrivePolicy"):
            return _every_attribute(queue)[name]
        if (
            name in queue.BASE_ATTRIBUTES
            or (name in queue.FIFO_ATTRIBUTES and queue.fifo_queue)
            or (name in queue.KMS_ATTRIBUTES and queue.kms_master_key_id)
        ):
            value = getattr(queue, camelcase_to_underscores(name))
            return str(value).lower() if isinstance(value, bool) else value
        raise KeyError(name)

    def __iter__(self):
        return iter(_every_attribute(self._queue))

    def __len__(self):
        return len(_every_attribute(self._queue))


_get_queue_attributes = SQSBackend.get_queue_attributes


def _queue_attributes_as_dict(self, queue_name, attribute_names):
    return dict(_get_queue_attributes(self, queue_name, attribute_names))


_unlocked_delete = Queue.delete_message


def _delete_message(self, receipt_handle):
    with self._messages_lock:
        _unlocked_delete(self, receipt_handle)


backends.list_of_moto_modules = functools.cache(lambda: tuple(_list_of_moto_modules()))
sqs_models.unix_time = _unix_time
sqs_models.unix_time_millis = _unix_time_millis
SQSBackend.is_message_valid_based_on_retention_period = _within_retention
Queue.wait_for_messages = _wait_for_messages
Queue.delete_message = _delete_message
Queue.attributes = property(_AttributesOnRead)
SQSBackend.get_queue_attributes = _queue_attributes_as_dict

if __name__ == "__main__":
    sys.exit(main())
